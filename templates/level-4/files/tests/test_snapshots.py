"""Snapshots are content-addressed and immutable, and verification catches any change."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }} import snapshots
from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.validate import Schema


@pytest.fixture
def schema(train_config: TrainConfig) -> Schema:
    return Schema.of(train_config)


@pytest.fixture
def rows(dataset: pd.DataFrame) -> pd.DataFrame:
    """Thirty labelled rows over two days, as collect.py writes them."""
    frame = dataset.head(30).reset_index(drop=True)
    days = ["2025-01-01T10:00:00.000+00:00", "2025-01-02T10:00:00.000+00:00"]
    return frame.assign(
        prediction_id=[f"p{index:03d}" for index in range(len(frame))],
        timestamp=[days[index % 2] for index in range(len(frame))],
    )


def test_the_id_is_the_digest_of_the_rows_whatever_their_order(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    written = snapshots.write(rows, schema, root=tmp_path / "a")
    shuffled = rows.sample(frac=1, random_state=3)
    again = snapshots.write(shuffled, schema, root=tmp_path / "b")
    changed = rows.copy()
    changed.loc[0, "target"] = 1 - changed.loc[0, "target"]{% if not is_classification %} + 2{% endif %}
    other = snapshots.write(changed, schema, root=tmp_path / "c")

    snapshot = written.snapshot
    assert snapshot.id == again.snapshot.id == snapshot.digest[: snapshots.ID_LENGTH]
    assert snapshot.path.name == snapshot.id
    assert other.snapshot.id != snapshot.id
    manifest = json.loads((snapshot.path / snapshots.MANIFEST).read_text())
    assert manifest["rows"] == 30
    assert sorted(manifest["prediction_ids"]) == sorted(rows.prediction_id)
    assert [p["path"] for p in manifest["partitions"]] == [
        "day=2025-01-01/part-0.parquet",
        "day=2025-01-02/part-0.parquet",
    ]
    assert [p["rows"] for p in manifest["partitions"]] == [15, 15]


def test_a_snapshot_is_written_once_and_read_only(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    first = snapshots.write(rows, schema, root=tmp_path)
    files = {path: path.stat().st_mtime_ns for path in first.snapshot.path.rglob("*.*")}
    second = snapshots.write(rows, schema, root=tmp_path)

    assert first.created and not second.created
    assert second.snapshot.path == first.snapshot.path
    assert {path: path.stat().st_mtime_ns for path in files} == files
    for path in files:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    assert [p.name for p in tmp_path.iterdir()] == [first.snapshot.id]  # no leftovers


def test_verification_reads_back_exactly_what_was_written(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    snapshot = snapshots.write(rows, schema, root=tmp_path).snapshot
    verified = snapshots.verify(snapshot, schema)
    assert verified.ok, verified.problems
    expected = snapshots.canonical(rows, schema)
    pd.testing.assert_frame_equal(verified.frame, expected, check_dtype=False)


def test_a_changed_partition_fails_verification(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    snapshot = snapshots.write(rows, schema, root=tmp_path).snapshot
    part = snapshot.path / snapshot.manifest["partitions"][0]["path"]
    part.chmod(0o644)
    frame = pd.read_parquet(part)
    frame.loc[0, "target"] = 1 - frame.loc[0, "target"]{% if not is_classification %} + 2{% endif %}
    frame.to_parquet(part, index=False)

    verified = snapshots.verify(snapshot, schema)
    assert not verified.ok and verified.frame is None
    assert "changed since it was written" in verified.problems[0]


def test_rows_whose_digest_differs_from_the_manifest_fail_verification(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    snapshot = snapshots.write(rows, schema, root=tmp_path).snapshot
    manifest = snapshot.path / snapshots.MANIFEST
    manifest.chmod(0o644)
    edited = {**snapshot.manifest, "digest": "0" * 64}
    manifest.write_text(json.dumps(edited))

    verified = snapshots.verify(snapshots.load(snapshot.path), schema)
    assert any("digest" in problem for problem in verified.problems), verified.problems


def test_a_snapshot_of_another_schema_fails_verification(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    snapshot = snapshots.write(rows, schema, root=tmp_path).snapshot
    grown = Schema({**schema.features, "new_feature": "float"}, schema.target_type)
    assert not snapshots.verify(snapshot, grown).ok


def test_rows_that_do_not_match_the_schema_are_never_written(
    rows: pd.DataFrame, schema: Schema, tmp_path: Path
) -> None:
    broken = rows.copy()
    first = next(iter(schema.features))
    broken[first] = broken[first].astype(object)
    broken.loc[0, first] = "not a number"
    with pytest.raises(snapshots.SnapshotError, match="schema"):
        snapshots.write(broken, schema, root=tmp_path)
    doubled = pd.concat([rows, rows.head(1)])
    with pytest.raises(snapshots.SnapshotError, match="unique"):
        snapshots.write(doubled, schema, root=tmp_path)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
