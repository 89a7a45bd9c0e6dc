"""Data validation: the schema check that stops training on bad data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.validate import (
    DataValidationError,
    Schema,
    check,
    main,
    problems,
)

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train.yaml"


@pytest.fixture
def schema(train_config: TrainConfig) -> Schema:
    return Schema.of(train_config)


@pytest.fixture
def frame(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.copy()


def test_the_bundled_data_matches_the_shipped_schema(frame: pd.DataFrame, schema: Schema) -> None:
    assert problems(frame, schema) == []
    check(frame, schema)


def test_a_missing_column_is_named(frame: pd.DataFrame, schema: Schema) -> None:
    dropped = frame.columns[0]
    assert problems(frame.drop(columns=[dropped]), schema) == [f"missing column `{dropped}`"]


def test_an_unexpected_column_is_named(frame: pd.DataFrame, schema: Schema) -> None:
    frame["colour"] = 1.0
    assert problems(frame, schema) == ["unexpected column `colour`"]


def test_a_column_of_the_wrong_type_is_named(frame: pd.DataFrame, schema: Schema) -> None:
    name = frame.columns[1]
    frame[name] = "n/a"
    assert problems(frame, schema) == [f"column `{name}` should be float but is object"]


def test_integers_are_numbers_but_booleans_are_not(frame: pd.DataFrame, schema: Schema) -> None:
    first, second = frame.columns[:2]
    frame[first] = frame[first].round().astype("int64")
    frame[second] = frame[second] > frame[second].median()
    assert problems(frame, schema) == [f"column `{second}` should be float but is bool"]


def test_missing_values_are_counted(frame: pd.DataFrame, schema: Schema) -> None:
    name = frame.columns[2]
    frame.loc[[0, 5, 9], name] = np.nan
    assert problems(frame, schema) == [f"column `{name}` has 3 missing values"]
{%- if is_classification %}


def test_the_target_must_be_integer_labels_0_and_1(frame: pd.DataFrame, schema: Schema) -> None:
    as_float = frame.assign(target=frame["target"].astype(float))
    assert problems(as_float, schema) == ["column `target` should be int but is float64"]
    relabelled = frame.assign(target=frame["target"] + 1)
    assert problems(relabelled, schema) == ["the target should hold the labels 0 and 1, not [1, 2]"]
{%- else %}


def test_the_target_must_be_a_number(frame: pd.DataFrame, schema: Schema) -> None:
    assert problems(frame.assign(target=frame["target"].round().astype("int64")), schema) == []
    assert problems(frame.assign(target="high"), schema) == [
        "column `target` should be float but is object"
    ]
{%- endif %}


def test_every_problem_is_reported_at_once(frame: pd.DataFrame, schema: Schema) -> None:
    broken = frame.drop(columns=[frame.columns[0]]).assign(colour=1.0)
    with pytest.raises(DataValidationError) as raised:
        check(broken, schema)
    assert len(raised.value.problems) == 2
    message = str(raised.value)
    assert "missing column" in message and "unexpected column `colour`" in message
    assert problems(frame.head(0), schema)[0] == "the data has no rows"


def test_the_command_fails_on_bad_data(
    tmp_path: Path, frame: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.csv"
    frame.rename(columns={frame.columns[0]: "renamed"}).to_csv(source, index=False)
    ingest_config = tmp_path / "ingest.yaml"
    ingest_config.write_text(f"source: {source}\noutput: {tmp_path / 'raw.csv'}\n")
    arguments = ["--config", str(CONFIG), "--ingest-config", str(ingest_config)]
    assert main(arguments) == 1
    assert "unexpected column `renamed`" in capsys.readouterr().err

    frame.to_csv(source, index=False)
    (tmp_path / "raw.csv").unlink()
    assert main(arguments) == 0
