"""The join of the prediction log with its labels, and every kind of bad input it leaves out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ package_name }} import collect, snapshots
from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.ingest import TARGET
from {{ package_name }}.data.validate import Schema


@pytest.fixture
def schema(train_config: TrainConfig) -> Schema:
    return Schema.of(train_config)


def prediction(index: int, features: dict[str, float], key: str = "customer") -> dict[str, Any]:
    return {
        "prediction_id": f"p{index:03d}",
        "timestamp": f"2025-01-01T10:00:{index % 60:02d}.000+00:00",
        "key": key,
        "variant": "champion",
        "model_version": "1",
        "features": features,
        "synthetic": key.startswith("synthetic:"),
    }


def label(index: int, value: Any) -> dict[str, Any]:
    return {"prediction_id": f"p{index:03d}", "label": value, "received_at": "2025-01-02"}


@pytest.fixture
def logged(dataset: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Twenty predictions of the data set's rows, each with its true label."""
    rows = dataset.head(20)
    features = rows.drop(columns=[TARGET]).to_dict(orient="records")
    predictions = [prediction(index, row) for index, row in enumerate(features)]
    labels = [label(index, value) for index, value in enumerate(rows[TARGET].tolist())]
    return predictions, labels


def test_labelled_predictions_become_rows_of_the_training_schema(
    logged: tuple[list[dict[str, Any]], list[dict[str, Any]]], schema: Schema, dataset: pd.DataFrame
) -> None:
    predictions, labels = logged
    joined = collect.join(predictions, labels, schema)

    assert not joined.excluded
    assert list(joined.frame.columns) == snapshots.columns(schema)
    expected = dataset.head(20).reset_index(drop=True)
    pd.testing.assert_frame_equal(joined.frame[list(expected.columns)], expected, check_dtype=False)
    assert joined.frame[snapshots.PREDICTION_ID].tolist() == [f"p{i:03d}" for i in range(20)]


def test_bad_input_is_counted_by_reason_and_left_out(
    logged: tuple[list[dict[str, Any]], list[dict[str, Any]]], schema: Schema
) -> None:
    predictions, labels = logged
    first = next(iter(schema.features))
    predictions = [
        *predictions,
        predictions[0],  # logged twice: the first is kept
        prediction(50, {**predictions[1]["features"], first: "big"}),  # not a number
        prediction(51, {first: 1.0}),  # features missing
        prediction(52, predictions[2]["features"], key="synthetic:release"),
    ]
    labels = [
        *labels,
        label(99, 1),  # no such prediction
        label(3, "yes"),  # not a label
        label(4, True),  # a boolean is not a label either
        label(5, labels[5]["label"]),  # the same label again: one is kept
        label(6, {% if is_classification %}1 - labels[6]["label"]{% else %}labels[6]["label"] + 10{% endif %}),  # a second, different label
        label(50, labels[0]["label"]),
        label(51, labels[0]["label"]),
        label(52, labels[0]["label"]),
{%- if is_classification %}
        label(7, 2),  # not a class
{%- else %}
        label(7, float("nan")),  # not a number
{%- endif %}
    ]
    joined = collect.join(predictions, labels, schema, collected={"p008"})

    assert dict(joined.excluded) == {
        "duplicate_prediction": 1,
        "unknown_prediction": 1,
        "wrong_label_type": 3,
        "duplicate_label": 1,
        "conflicting_labels": 1,
        "invalid_features": 2,
        "synthetic": 1,
        "already_collected": 1,
    }
    kept = set(joined.frame[snapshots.PREDICTION_ID])
    # p003, p004 and p007 keep their first, valid label; p006 and p008 are left out.
    assert kept == {f"p{i:03d}" for i in range(20)} - {"p006", "p008"}
    assert joined.report()["conflicting_labels"] == {"rows": 1, "examples": ["p006"]}


def write_logs(
    directory: Path, predictions: list[dict], labels: list[dict]
) -> collect.CollectConfig:
    directory.mkdir(parents=True, exist_ok=True)
    for name, records in (("predictions.jsonl", predictions), ("feedback.jsonl", labels)):
        text = "".join(json.dumps(record) + "\n" for record in records)
        (directory / name).write_text(text)
    return collect.CollectConfig(
        predictions=str(directory / "predictions.jsonl"),
        feedback=str(directory / "feedback.jsonl"),
    )


def test_a_collection_snapshots_only_what_is_new(
    logged: tuple[list[dict[str, Any]], list[dict[str, Any]]], schema: Schema, tmp_path: Path
) -> None:
    predictions, labels = logged
    root = tmp_path / "snapshots"
    config = write_logs(tmp_path / "logs", predictions[:10], labels[:10])
    first = collect.run(config, schema, root)
    assert first is not None and first.created and first.snapshot.rows == 10
    sources = {source["kind"]: source for source in first.snapshot.manifest["sources"]}
    assert sources["predictions"]["records"] == 10 and len(sources["feedback"]["sha256"]) == 64

    # Nothing new: no snapshot, and the first is left as it was.
    assert collect.run(config, schema, root) is None
    # The logs grew: the new snapshot holds the new rows only.
    config = write_logs(tmp_path / "logs", predictions, labels)
    second = collect.run(config, schema, root)
    assert second is not None and second.snapshot.rows == 10
    assert second.snapshot.manifest["excluded"]["already_collected"]["rows"] == 10
    assert set(second.snapshot.manifest["prediction_ids"]).isdisjoint(
        first.snapshot.manifest["prediction_ids"]
    )
    assert sorted(s.id for s in snapshots.listed(root)) == sorted(
        [first.snapshot.id, second.snapshot.id]
    )
    assert snapshots.verify(first.snapshot, schema).ok


def test_the_command_reports_what_it_wrote(
    logged: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    predictions, labels = logged
    config = write_logs(tmp_path / "logs", predictions, [*labels, label(99, 1)])
    monkeypatch.setenv("PREDICTION_LOG", config.predictions)
    monkeypatch.setenv("FEEDBACK_LOG", config.feedback)
    monkeypatch.setenv("SNAPSHOTS_DIR", str(tmp_path / "snapshots"))

    assert collect.main(["--config", str(tmp_path / "none.yaml")]) == collect.EXIT_OK
    out = capsys.readouterr().out
    assert "excluded 1 (unknown_prediction), such as p099" in out
    assert "snapshot " in out and " written: 20 rows" in out
