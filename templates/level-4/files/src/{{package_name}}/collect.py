"""Production's labelled rows as training data: `make collect`.

The same as `python -m {{ package_name }}.collect`.

It joins the prediction log with the labels received through `/feedback` (configs/collect.yaml
says where both are), checks every labelled row against the training schema of
configs/train.yaml, and writes the rows not collected before as a new snapshot (snapshots.py)
under `production.snapshots` of configs/train.yaml (or SNAPSHOTS_DIR), where training finds it.

Nothing is trained on silently. Every row left out is counted, by reason, in the report printed
and in the snapshot's manifest:

- `unknown_prediction`: a label for a prediction id that is not in the prediction log;
- `wrong_label_type`: a label that is not {% if is_classification %}a class (0 or 1){% else %}a finite number{% endif %};
- `duplicate_label`: the same label posted again for a prediction (one is kept);
- `conflicting_labels`: different labels for one prediction (none is kept: which is true?);
- `invalid_features`: a prediction whose features do not match the schema;
- `duplicate_prediction`: a prediction id logged twice (the first is kept);
- `synthetic`: the release tests' traffic;
- `already_collected`: a prediction already in a snapshot, which is never rewritten.

Exit status: 0 when a snapshot was written or there was nothing new to collect, 1 when the rows
could not be snapshotted, 2 on a bad configuration.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import tempfile
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import prediction_log, serving, snapshots
from .config import DEFAULT_CONFIG as DEFAULT_TRAIN_CONFIG
from .config import ConfigError
from .config import load_config as load_train_config
from .data.ingest import TARGET
from .data.validate import Schema
from .training_data import snapshot_root

DEFAULT_CONFIG = Path("configs/collect.yaml")
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
REASONS = (
    "unknown_prediction",
    "wrong_label_type",
    "duplicate_label",
    "conflicting_labels",
    "invalid_features",
    "duplicate_prediction",
    "synthetic",
    "already_collected",
)


@dataclass(frozen=True)
class CollectConfig:
    predictions: str | None = None
    feedback: str | None = None


@dataclass
class Joined:
    """The labelled rows that may be trained on, and what was left out of them, by reason."""

    frame: pd.DataFrame
    excluded: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def exclude(self, reason: str, prediction_id: Any) -> None:
        self.excluded[reason] += 1
        listed = self.examples.setdefault(reason, [])
        if len(listed) < 5:
            listed.append(str(prediction_id))

    def report(self) -> dict[str, Any]:
        return {
            reason: {"rows": self.excluded[reason], "examples": self.examples.get(reason, [])}
            for reason in REASONS
            if self.excluded[reason]
        }


def load_config(path: Path = DEFAULT_CONFIG) -> CollectConfig:
    raw = yaml.safe_load(path.read_text()) if path.is_file() else {}
    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - {"predictions", "feedback"}:
        raise ConfigError(f"{path}: expected the keys `predictions` and `feedback`")
    return CollectConfig(
        predictions=str(raw.get("predictions") or "") or None,
        feedback=str(raw.get("feedback") or "") or None,
    )


def location(configured: str | None, key: str, environ: Mapping[str, str]) -> str | None:
    """Where a log is: configs/collect.yaml, else its environment variable, else the path of
    configs/serving.yaml."""
    if configured:
        return configured
    given = environ.get(serving.ENVIRONMENT[key])
    if given is not None:
        return given.strip() or None
    path = getattr(serving.load_config(environ=environ), key)
    return str(path) if path else None


def fetch(where: str, directory: Path) -> Path:
    """A local copy of a log given as an http(s) URL; a path as it is."""
    if not where.startswith(("http://", "https://")):
        return Path(where)
    path = directory / Path(where.split("?")[0]).name
    with urllib.request.urlopen(where, timeout=60) as response:
        path.write_bytes(response.read())
    return path


def label_value(label: Any, target_type: str) -> int | float | None:
    """The label as the schema's type, or None when it is of the wrong type."""
    if isinstance(label, bool) or not isinstance(label, int | float):
        return None
    if not math.isfinite(label):
        return None
    if target_type == "int":
        if float(label) != int(label):
            return None
        value = int(label)
{%- if is_classification %}
        return value if value in (0, 1) else None
{%- else %}
        return value
{%- endif %}
    return float(label)


def features_valid(features: Any, schema: Schema) -> bool:
    if not isinstance(features, dict) or set(features) != set(schema.features):
        return False
    for name, kind in schema.features.items():
        value = features[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if not math.isfinite(value) or (kind == "int" and float(value) != int(value)):
            return False
    return True


def join(
    predictions: Iterable[dict[str, Any]],
    feedback: Iterable[dict[str, Any]],
    schema: Schema,
    collected: set[str] | None = None,
) -> Joined:
    """The labelled predictions as rows (prediction id, timestamp, features, target), each bad
    one counted by reason and left out."""
    joined = Joined(pd.DataFrame(columns=snapshots.columns(schema)))
    logged: dict[str, dict[str, Any]] = {}
    for record in predictions:
        prediction_id = str(record.get("prediction_id", ""))
        if prediction_id in logged:
            joined.exclude("duplicate_prediction", prediction_id)
            continue
        logged[prediction_id] = record

    labels: dict[str, list[int | float]] = {}
    for record in feedback:
        prediction_id = str(record.get("prediction_id", ""))
        if prediction_id not in logged:
            joined.exclude("unknown_prediction", prediction_id)
            continue
        value = label_value(record.get("label"), schema.target_type)
        if value is None:
            joined.exclude("wrong_label_type", prediction_id)
            continue
        labels.setdefault(prediction_id, []).append(value)

    rows = []
    for prediction_id, values in labels.items():
        record = logged[prediction_id]
        if len(set(values)) > 1:
            joined.exclude("conflicting_labels", prediction_id)
            continue
        for _ in values[1:]:
            joined.exclude("duplicate_label", prediction_id)
        if record.get("synthetic") or prediction_log.is_synthetic(str(record.get("key", ""))):
            joined.exclude("synthetic", prediction_id)
            continue
        if collected and prediction_id in collected:
            joined.exclude("already_collected", prediction_id)
            continue
        features = record.get("features")
        if not features_valid(features, schema):
            joined.exclude("invalid_features", prediction_id)
            continue
        rows.append(
            {
                snapshots.PREDICTION_ID: prediction_id,
                snapshots.TIMESTAMP: str(record.get("timestamp", "")),
                **{name: features[name] for name in schema.features},
                TARGET: values[0],
            }
        )
    if rows:
        frame = pd.DataFrame(rows, columns=snapshots.columns(schema))
        for name, kind in schema.columns.items():
            frame[name] = frame[name].astype("int64" if kind == "int" else "float64")
        joined.frame = frame
    return joined


def source(kind: str, where: str, path: Path) -> dict[str, Any]:
    content = path.read_bytes() if path.is_file() else b""
    return {
        "kind": kind,
        "location": where,
        "sha256": hashlib.sha256(content).hexdigest(),
        "records": content.count(b"\n"),
    }


def run(
    config: CollectConfig,
    schema: Schema,
    root: Path,
    environ: Mapping[str, str] = os.environ,
) -> snapshots.Written | None:
    """Collects what is new into a snapshot; returns it, or None when there was nothing new."""
    predictions_at = location(config.predictions, "prediction_log", environ)
    feedback_at = location(config.feedback, "feedback_log", environ)
    if not predictions_at or not feedback_at:
        raise ConfigError("no prediction log or no feedback log to collect from")
    with tempfile.TemporaryDirectory() as directory:
        predictions_path = fetch(predictions_at, Path(directory))
        feedback_path = fetch(feedback_at, Path(directory))
        joined = join(
            prediction_log.read(predictions_path),
            prediction_log.read(feedback_path),
            schema,
            snapshots.collected_ids(root),
        )
        sources = [
            source("predictions", predictions_at, predictions_path),
            source("feedback", feedback_at, feedback_path),
        ]
    print(f"collect: {len(joined.frame)} new labelled rows from {predictions_at} and {feedback_at}")
    for reason, excluded in joined.report().items():
        examples = ", ".join(excluded["examples"])
        print(f"  excluded {excluded['rows']} ({reason}), such as {examples}")
    if joined.frame.empty:
        print("collect: nothing new; no snapshot written")
        return None
    written = snapshots.write(
        joined.frame, schema, root=root, sources=sources, excluded=joined.report()
    )
    state = "written" if written.created else "exists already, unchanged"
    snapshot = written.snapshot
    print(
        f"snapshot {snapshot.id} {state}: {snapshot.rows} rows, sha256 {snapshot.digest}, "
        f"{snapshot.path}"
    )
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Join the prediction log with its labels into a snapshot of training data."
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="collect.yaml")
    parser.add_argument(
        "--train-config", type=Path, default=DEFAULT_TRAIN_CONFIG, help="train.yaml: the schema"
    )
    args = parser.parse_args(argv)
    try:
        train_config = load_train_config(args.train_config)
        run(load_config(args.config), Schema.of(train_config), snapshot_root(train_config))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except snapshots.SnapshotError as error:
        print(f"error: {error}; nothing was written", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
