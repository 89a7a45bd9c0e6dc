"""Drift: how far a window of production inputs has moved from the training reference.

Two measures per feature, against the reference that training recorded (reference.py):

- the population stability index (PSI): the window's values fall into the reference's bins, and
  PSI = sum over the bins of (window share - reference share) * ln(window share / reference share).
  Below 0.1 is commonly read as no shift, 0.1 to 0.25 as a moderate one, above 0.25 as a major one;
- the two-sample Kolmogorov-Smirnov statistic against the reference's sample (scipy), the largest
  distance between the two distribution functions, with its p-value.

A feature drifts when its PSI exceeds the threshold of configs/monitoring.yaml. The predictions get
the same measures: they move when the inputs the model relies on move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from .reference import shares

# Empty bins get this share, so that the logarithm stays finite.
EPSILON = 1e-4
PREDICTION = "prediction"


@dataclass(frozen=True)
class Drift:
    name: str
    psi: float
    ks: float
    ks_pvalue: float
    mean: float
    reference_mean: float
    drifted: bool


@dataclass(frozen=True)
class DriftReport:
    features: list[Drift]
    prediction: Drift | None
    threshold: float

    @property
    def drifted(self) -> list[str]:
        return [drift.name for drift in self.features if drift.drifted]

    @property
    def max_psi(self) -> float:
        return max(drift.psi for drift in self.features)

    @property
    def max_ks(self) -> float:
        return max(drift.ks for drift in self.features)

    def metrics(self) -> dict[str, float]:
        """The window's drift, as metrics the retraining policy can name."""
        found = {
            "max_psi": self.max_psi,
            "max_ks": self.max_ks,
            "drifted_features": float(len(self.drifted)),
        }
        if self.prediction is not None:
            found["prediction_psi"] = self.prediction.psi
        return found


def psi(reference_shares: Sequence[float], edges: Sequence[float], values: np.ndarray) -> float:
    """The population stability index of `values` in the reference's bins."""
    expected = np.clip(np.asarray(reference_shares, dtype=float), EPSILON, None)
    actual = np.clip(shares(values, edges), EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def measure(name: str, profile: dict[str, Any], values: np.ndarray, threshold: float) -> Drift:
    statistic = ks_2samp(values, np.asarray(profile["sample"], dtype=float))
    index = psi(profile["shares"], profile["edges"], values)
    return Drift(
        name=name,
        psi=index,
        ks=float(statistic.statistic),
        ks_pvalue=float(statistic.pvalue),
        mean=float(values.mean()),
        reference_mean=float(profile["mean"]),
        drifted=index > threshold,
    )


def compare(
    reference: dict[str, Any],
    features: pd.DataFrame,
    predictions: Sequence[float] | None = None,
    *,
    threshold: float = 0.2,
) -> DriftReport:
    """The drift of each reference feature in `features` (a window of production inputs), and of
    `predictions` if given."""
    profiles = reference["features"]
    missing = sorted(set(profiles) - set(features.columns))
    if missing:
        raise ValueError(f"the window lacks features of the reference: {missing}")
    if features.empty:
        raise ValueError("the window has no rows")
    found = [
        measure(name, profile, features[name].to_numpy(dtype=float), threshold)
        for name, profile in profiles.items()
    ]
    prediction = None
    if predictions is not None and reference.get("prediction"):
        values = np.asarray(predictions, dtype=float)
        prediction = measure(PREDICTION, reference["prediction"], values, threshold)
    return DriftReport(found, prediction, threshold)
