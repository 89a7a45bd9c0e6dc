"""The training reference: what the model was trained on, for monitoring to compare production to.

The pipeline records it with every training run, as the artifact `monitoring/reference.json` of the
run (and as reports/training/reference.json): for each feature, the inner edges of up to ten bins
that hold equal shares of the training rows, the share of the rows in each bin, the mean, the
standard deviation and a sample of the values; and the same for the model's predictions on those
rows. Monitoring (monitor.py) compares each window of production inputs with the reference of the
version that served them (drift.py): so drift is measured against what that model learnt from, not
against whatever data is around when the monitor runs.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ARTIFACT = "monitoring/reference.json"
FORMAT = 1
BINS = 10
SAMPLE = 1000


class ReferenceError(ValueError):
    """There is no usable reference: none recorded, or not one this code can read."""


def bin_edges(values: np.ndarray, bins: int = BINS) -> list[float]:
    """The inner edges of up to `bins` bins holding equal shares of `values` (fewer with ties)."""
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return [float(edge) for edge in np.unique(quantiles)]


def shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """The share of `values` in each bin: up to the first edge, ..., above the last one."""
    bins = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def profile(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    bins: int = BINS,
    sample: int = SAMPLE,
    seed: int = 0,
) -> dict[str, Any]:
    """The bins, their shares, summary statistics and a sample of one column of values."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        raise ReferenceError("cannot profile an empty column")
    edges = bin_edges(array, bins)
    kept = array
    if array.size > sample:
        kept = np.random.default_rng(seed).choice(array, size=sample, replace=False)
    return {
        "edges": edges,
        "shares": [float(share) for share in shares(array, edges)],
        "mean": float(array.mean()),
        "std": float(array.std()),
        "sample": [float(value) for value in np.sort(kept)],
    }


def build(
    features: pd.DataFrame,
    predictions: Sequence[float] | np.ndarray,
    *,
    bins: int = BINS,
    sample: int = SAMPLE,
    seed: int = 0,
) -> dict[str, Any]:
    """The reference of a model trained on `features` that predicts `predictions` for them."""
    return {
        "format": FORMAT,
        "rows": len(features),
        "features": {
            str(name): profile(features[name], bins=bins, sample=sample, seed=seed)
            for name in features.columns
        },
        "prediction": profile(predictions, bins=bins, sample=sample, seed=seed),
    }


def check(reference: Any, where: str) -> dict[str, Any]:
    if not isinstance(reference, dict) or reference.get("format") != FORMAT:
        raise ReferenceError(f"{where} is not a training reference of format {FORMAT}")
    if not reference.get("features"):
        raise ReferenceError(f"{where} profiles no feature")
    return reference


def save(reference: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(reference) + "\n")


def load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReferenceError(f"no training reference at {path}")
    return check(json.loads(path.read_text()), str(path))


def from_run(run_id: str) -> dict[str, Any]:
    """The reference the training run `run_id` recorded, from the tracking store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as directory:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=ARTIFACT, dst_path=directory
            )
        except (MlflowException, OSError) as error:
            raise ReferenceError(f"run {run_id} recorded no training reference: {error}") from None
        return load(Path(path))
