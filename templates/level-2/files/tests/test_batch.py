"""Batch scoring of a partitioned data set (`make score-batch`): one prediction file a partition."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }}.batch import partitions, score_directory
from {{ package_name }}.score import LoadedModel, SchemaError


def test_each_partition_is_scored_into_a_file_of_its_own(
    partitioned: tuple[Path, pd.DataFrame], fitted: LoadedModel, tmp_path: Path
) -> None:
    root, frame = partitioned
    written = score_directory(fitted, root, tmp_path / "out", "local")
    assert sorted(path.relative_to(tmp_path / "out").as_posix() for path in written) == [
        "day=0/part-0.parquet",
        "day=1/part-0.parquet",
        "late.csv",
    ]
    assert sum(written.values()) == len(frame)
    first = pd.read_parquet(tmp_path / "out" / "day=0" / "part-0.parquet")
    expected = fitted.model.predict(frame[fitted.features].iloc[:200])
    assert first["prediction"].tolist() == pytest.approx(expected.tolist())


def test_a_partition_without_the_features_stops_the_batch(
    fitted: LoadedModel, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    pd.DataFrame({"id": [1, 2]}).to_csv(tmp_path / "in" / "part.csv", index=False)
    with pytest.raises(SchemaError):
        score_directory(fitted, tmp_path / "in", tmp_path / "out", "local")


def test_an_input_without_partitions_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="holds no .parquet or .csv partition"):
        partitions(tmp_path)
