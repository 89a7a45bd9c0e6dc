"""Check data against the schema the model is trained on.

Run it as `python -m {{ package_name }}.data.validate` (`make validate`).

The schema is the `features` and `target` of configs/train.yaml. `problems` lists every way a
frame departs from it: a missing or unexpected column, a column of the wrong type or with missing
values{% if is_classification %}, a target other than the labels 0 and 1{% endif %}. `check` raises `DataValidationError` with all
of them. The training pipeline checks the data before it trains, so data that changed shape
upstream stops training before anything is tracked or registered.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pandas.api import types

from ..config import DEFAULT_CONFIG, TrainConfig, load_config
from .ingest import DEFAULT_CONFIG as DEFAULT_INGEST_CONFIG
from .ingest import TARGET, load_dataset


@dataclass(frozen=True)
class Schema:
    """Column name to type (`float` or `int`) for every feature, and the target's type."""

    features: dict[str, str]
    target_type: str

    @classmethod
    def of(cls, config: TrainConfig) -> Schema:
        return cls(features=dict(config.features), target_type=config.target_type)

    @property
    def columns(self) -> dict[str, str]:
        return {**self.features, TARGET: self.target_type}


class DataValidationError(ValueError):
    """The data does not match the schema; `problems` says how."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"the data does not match the schema in configs/train.yaml:\n{listed}")


def has_type(column: pd.Series, expected: str) -> bool:
    """`int` takes integer columns; `float` takes any number. Booleans and text are neither."""
    if types.is_bool_dtype(column):
        return False
    if expected == "int":
        return types.is_integer_dtype(column)
    return types.is_numeric_dtype(column)


def problems(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """Every departure of `frame` from `schema`, in column order; empty when it matches."""
    found: list[str] = []
    expected = schema.columns
    if frame.empty:
        found.append("the data has no rows")
    for name in expected:
        if name not in frame.columns:
            found.append(f"missing column `{name}`")
    for name in frame.columns:
        if name not in expected:
            found.append(f"unexpected column `{name}`")
    for name, kind in expected.items():
        if name not in frame.columns:
            continue
        column = frame[name]
        if not has_type(column, kind):
            found.append(f"column `{name}` should be {kind} but is {column.dtype}")
            continue
        n_missing = int(column.isna().sum())
        if n_missing:
            found.append(f"column `{name}` has {n_missing} missing values")
{%- if is_classification %}
    if TARGET in frame.columns and has_type(frame[TARGET], schema.target_type):
        labels = sorted(frame[TARGET].dropna().unique().tolist())
        if labels != [0, 1]:
            found.append(f"the target should hold the labels 0 and 1, not {labels[:10]}")
{%- endif %}
    return found


def check(frame: pd.DataFrame, schema: Schema) -> None:
    """Raises `DataValidationError` unless `frame` matches `schema`."""
    found = problems(frame, schema)
    if found:
        raise DataValidationError(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the raw data against the schema.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="train.yaml to use")
    parser.add_argument(
        "--ingest-config", type=Path, default=DEFAULT_INGEST_CONFIG, help="ingest.yaml to use"
    )
    args = parser.parse_args(argv)
    schema = Schema.of(load_config(args.config))
    frame = load_dataset(args.ingest_config)
    try:
        check(frame, schema)
    except DataValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"valid: {len(frame)} rows match the schema ({len(schema.features)} features and target)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
