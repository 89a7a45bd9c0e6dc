"""The ingest step gathers data with its metadata, is idempotent and refuses bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }}.data.ingest import (
    TARGET,
    IngestConfig,
    ingest,
    load_config,
    load_dataset,
)


def test_bundled_source_writes_data_and_metadata(tmp_path: Path) -> None:
    config = IngestConfig(output=tmp_path / "raw" / "dataset.csv")
    result = ingest(config)

    assert result.changed
    frame = pd.read_csv(config.output)
    metadata = json.loads(config.metadata_path.read_text())
    assert metadata["rows"] == len(frame) > 100
    assert metadata["source"] == "bundled"
    assert set(metadata["columns"]) == set(frame.columns)
    assert TARGET in frame.columns
    assert all(" " not in column for column in frame.columns)
    assert len(metadata["sha256"]) == 64
    datetime.fromisoformat(metadata["ingested_at"])


def test_ingest_is_idempotent(tmp_path: Path) -> None:
    config = IngestConfig(output=tmp_path / "dataset.csv")
    first = ingest(config, now=datetime(2024, 1, 1, tzinfo=UTC))
    data_before = config.output.read_bytes()
    second = ingest(config, now=datetime(2025, 1, 1, tzinfo=UTC))

    assert first.changed and not second.changed
    assert config.output.read_bytes() == data_before
    assert json.loads(config.metadata_path.read_text())["ingested_at"].startswith("2024-01-01")


def test_changed_data_is_written_again(tmp_path: Path) -> None:
    config = IngestConfig(output=tmp_path / "dataset.csv")
    ingest(config)
    config.output.write_text("stale\n")
    assert ingest(config).changed
    assert pd.read_csv(config.output).shape[0] > 100


def test_csv_source_renames_the_target(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    pd.DataFrame({"size cm": [1.0, 2.0, 3.0], "label": [0, 1, 0]}).to_csv(source, index=False)
    config = IngestConfig(source=str(source), target_column="label", output=tmp_path / "out.csv")
    ingest(config)

    frame = pd.read_csv(config.output)
    assert list(frame.columns) == ["size_cm", TARGET]
    assert frame[TARGET].tolist() == [0, 1, 0]


def test_a_source_without_the_target_column_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    pd.DataFrame({"a": [1.0]}).to_csv(source, index=False)
    config = IngestConfig(source=str(source), output=tmp_path / "out.csv")
    with pytest.raises(ValueError, match="no target column 'target'"):
        ingest(config)
    assert not config.output.exists()


def test_config_file_is_read_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "ingest.yaml"
    good.write_text("source: bundled\noutput: somewhere/data.csv\n")
    assert load_config(good).output == Path("somewhere/data.csv")

    bad = tmp_path / "bad.yaml"
    bad.write_text("sauce: bundled\n")
    with pytest.raises(ValueError, match="unknown keys \\['sauce'\\]"):
        load_config(bad)


def test_load_dataset_gathers_when_missing(tmp_path: Path) -> None:
    config_path = tmp_path / "ingest.yaml"
    config_path.write_text(f"output: {tmp_path / 'raw.csv'}\n")
    frame = load_dataset(config_path)
    assert (tmp_path / "raw.csv").exists()
    assert TARGET in frame.columns
