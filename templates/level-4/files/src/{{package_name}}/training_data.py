"""What a retrain learns from: the reference data plus labelled production rows, with lineage.

`production` of configs/train.yaml declares it. The pipeline (pipeline.py) calls `gather` after
it split the reference data: every snapshot (snapshots.py) collected within `window_days` is read
back and verified, and one that fails (a file changed, rows that do not match its digest or the
schema) is reported and left out. Of the rows of the snapshots that pass, ordered by the time of
their prediction:

- the most recent `recent_share` is the recent slice, held out: the gate scores the candidate and
  the champion on it as well as on the reference test set;
- the others are trained on with the reference training rows, at most `max_share` of all the rows
  trained on (the most recent kept), and never a row whose features equal a row of the recent
  slice or of the reference test set, so that what the gate scores on stays unseen.

With fewer than `min_rows` production rows, the reference data alone is trained on. `log` records
in the run which snapshots were used, with their ids and digests (tag `data.snapshots` and the
artifact data/lineage.json), so every model leads back to its exact data.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from . import snapshots
from .config import DEFAULT_CONFIG, ConfigError, ProductionConfig, TrainConfig, load_config
from .data.validate import Schema

LINEAGE_ARTIFACT = "data/lineage.json"
RECENT_SET_ARTIFACT = "evaluation/recent.csv"
SNAPSHOTS_TAG = "data.snapshots"
# Names another directory of snapshots than `production.snapshots`, as the demo does.
SNAPSHOTS_ENV = "SNAPSHOTS_DIR"


@dataclass
class Production:
    """The production rows of a run: trained on (`train`) and held out (`recent`)."""

    train: pd.DataFrame
    recent: pd.DataFrame
    lineage: dict[str, Any] = field(default_factory=dict)

    @property
    def snapshot_ids(self) -> list[str]:
        return [used["id"] for used in self.lineage.get("snapshots", [])]


def snapshot_root(config: TrainConfig) -> Path:
    """Where the snapshots are: SNAPSHOTS_DIR, else `production.snapshots`."""
    given = os.environ.get(SNAPSHOTS_ENV, "").strip()
    if given:
        return Path(given)
    return config.production.snapshots if config.production else snapshots.DEFAULT_ROOT


def in_window(
    settings: ProductionConfig, root: Path, now: datetime | None = None
) -> list[snapshots.Snapshot]:
    """The snapshots under `root` collected within the window, oldest first."""
    since = (now or datetime.now(UTC)) - timedelta(days=settings.window_days)
    return [snapshot for snapshot in snapshots.listed(root) if snapshot.created_at >= since]


def row_keys(frame: pd.DataFrame, features: list[str]) -> pd.Series:
    """A hash of each row's feature values, to find rows that are the same input."""
    return pd.util.hash_pandas_object(frame[features], index=False)


def empty(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame(columns=snapshots.columns(schema))


def gather(
    config: TrainConfig,
    reference_train: pd.DataFrame,
    reference_test: pd.DataFrame,
    now: datetime | None = None,
) -> Production:
    """The production rows to train on and to hold out, as `production` declares them."""
    schema = Schema.of(config)
    settings = config.production
    if settings is None:
        return Production(empty(schema), empty(schema), {"snapshots": []})
    root = snapshot_root(config)
    lineage: dict[str, Any] = {
        "production": {**settings.as_dict(), "snapshots": root.as_posix()},
        "snapshots": [],
        "rejected": [],
    }
    frames = []
    for snapshot in in_window(settings, root, now):
        verified = snapshots.verify(snapshot, schema)
        if not verified.ok:
            print(f"data: snapshot {snapshot.id} left out: {'; '.join(verified.problems)}")
            lineage["rejected"].append({"id": snapshot.id, "problems": verified.problems})
            continue
        frames.append(verified.frame.assign(_snapshot=snapshot.id))
        lineage["snapshots"].append(
            {"id": snapshot.id, "digest": snapshot.digest, "rows": snapshot.rows}
        )
    rows = pd.concat(frames, ignore_index=True) if frames else empty(schema)
    rows = rows.sort_values([snapshots.TIMESTAMP, snapshots.PREDICTION_ID], kind="stable")
    rows = rows.drop_duplicates(snapshots.PREDICTION_ID).reset_index(drop=True)
    if len(rows) < settings.min_rows:
        print(
            f"data: {len(rows)} labelled production rows within {settings.window_days:g} days, "
            f"fewer than {settings.min_rows}: the reference data alone"
        )
        lineage["snapshots"] = []
        return Production(empty(schema), empty(schema), lineage)

    n_recent = max(1, math.floor(len(rows) * settings.recent_share))
    recent, older = rows.tail(n_recent), rows.iloc[: len(rows) - n_recent]
    features = list(schema.features)
    scored = set(row_keys(recent, features)) | set(row_keys(reference_test, features))
    unseen = older[~row_keys(older, features).isin(scored).to_numpy()]
    cap = math.floor(settings.max_share / (1 - settings.max_share) * len(reference_train))
    train = unseen.tail(cap)

    for used in lineage["snapshots"]:
        used["rows_trained"] = int((train["_snapshot"] == used["id"]).sum())
        used["rows_recent"] = int((recent["_snapshot"] == used["id"]).sum())
    lineage.update(
        {
            "rows_trained": len(train),
            "rows_recent": len(recent),
            "rows_left_out": {
                "same_input_as_a_scored_row": len(older) - len(unseen),
                "above_max_share": len(unseen) - len(train),
            },
        }
    )
    ids = ", ".join(used["id"] for used in lineage["snapshots"])
    print(
        f"data: snapshots {ids}: {len(train)} production rows to train on, the most recent "
        f"{len(recent)} held out"
    )
    return Production(
        train.drop(columns="_snapshot").reset_index(drop=True),
        recent.drop(columns="_snapshot").reset_index(drop=True),
        lineage,
    )


def training_rows(reference_train: pd.DataFrame, production: Production) -> pd.DataFrame:
    """The reference training rows and the production rows to train on, in the reference's
    columns."""
    if production.train.empty:
        return reference_train
    added = production.train[list(reference_train.columns)]
    return pd.concat([reference_train, added], ignore_index=True)


def log(production: Production, reference_sha256: str, reference_rows: int) -> dict[str, str]:
    """Records in the active MLflow run what the model is trained on; returns the tag, for the
    registered version too."""
    import mlflow

    lineage = {
        "reference": {"sha256": reference_sha256, "rows": reference_rows},
        **production.lineage,
    }
    tag = {SNAPSHOTS_TAG: ",".join(production.snapshot_ids) or "none"}
    mlflow.set_tags(tag)
    mlflow.log_dict(lineage, LINEAGE_ARTIFACT)
    return tag


def planned(path: Path = DEFAULT_CONFIG, now: datetime | None = None) -> str:
    """What a retrain started now would learn from, in a sentence, for the issue of a fired
    policy; never raises, since the issue must be filed whatever this finds."""
    try:
        config = load_config(path)
    except (OSError, ConfigError) as error:
        return f"the training data cannot be read from `{path}`: {error}"
    if config.production is None:
        return f"the reference data alone (`{path}` has no `production` section)"
    settings = config.production
    root = snapshot_root(config)
    schema = Schema.of(config)
    passing, failing = [], []
    for snapshot in in_window(settings, root, now):
        (passing if snapshots.verify(snapshot, schema).ok else failing).append(snapshot)
    if not passing:
        return (
            f"the reference data alone: no snapshot of labelled production rows within "
            f"{settings.window_days:g} days in `{root}` (run `make collect`)"
        )
    named = ", ".join(f"`{s.id}` ({s.rows} rows, sha256 {s.digest})" for s in passing)
    noun = "snapshot" if len(passing) == 1 else "snapshots"
    text = f"the reference data plus {noun} {named} in `{root}`"
    if failing:
        text += "; left out, failing verification: " + ", ".join(f"`{s.id}`" for s in failing)
    if sum(s.rows for s in passing) < settings.min_rows:
        text += f" (fewer than {settings.min_rows} rows: the reference data alone)"
    return text


def load_recent_set(run_id: str) -> pd.DataFrame | None:
    """The recent slice a training run held out and logged, or None when it held none out."""
    import tempfile

    import mlflow

    folder = Path(RECENT_SET_ARTIFACT).parent.as_posix()
    logged = {item.path for item in mlflow.MlflowClient().list_artifacts(run_id, folder)}
    if RECENT_SET_ARTIFACT not in logged:
        return None
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=RECENT_SET_ARTIFACT, dst_path=directory
        )
        return pd.read_csv(path)
