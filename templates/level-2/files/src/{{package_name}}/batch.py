"""Batch scoring of a partitioned data set: `make score-batch INPUT=dir OUTPUT=dir`.

Every Parquet or CSV file under INPUT is a partition (`date=2024-01-01/part-0.parquet` as well as
`part-0.csv`); each is scored with the model of `score.load_model` and written in its own format
to the same relative path under OUTPUT, with the input's columns and the model's predictions: one
prediction file per partition.
{%- if is_ray %}

With `engine: ray` in configs/compute.yaml the partitions are scored by Ray Data on the cluster
(`cluster.score_partitions`); with `engine: local`, one after the other in this process.
{%- else %}

The partitions are scored one after the other in this process.
{%- endif %}
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .compute import ENGINES, configured_engine
from .score import (
    LoadedModel,
    ModelNotFoundError,
    SchemaError,
    add_model_argument,
    load_model,
    score_frame,
)

FORMATS = (".parquet", ".csv")


def partitions(directory: Path) -> list[Path]:
    """The Parquet and CSV files under `directory`, in path order."""
    if not directory.is_dir():
        raise FileNotFoundError(f"`{directory}` is not a directory of partitions")
    found = sorted(
        path for path in directory.rglob("*") if path.is_file() and path.suffix in FORMATS
    )
    if not found:
        raise FileNotFoundError(f"`{directory}` holds no {' or '.join(FORMATS)} partition")
    return found


def score_partition(model: LoadedModel, source: Path, target: Path) -> int:
    """Scores one partition into `target`, in the source's format; returns its number of rows."""
    import pandas as pd

    frame = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
    scored = score_frame(model, frame)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".parquet":
        scored.to_parquet(target, index=False)
    else:
        scored.to_csv(target, index=False)
    return len(scored)


def score_local(
    score_one: Callable[[Path, Path], int], pairs: list[tuple[Path, Path]]
) -> list[int]:
    return [score_one(source, target) for source, target in pairs]


def score_directory(
    model: LoadedModel, input_directory: Path, output_directory: Path, engine: str = "local"
) -> dict[Path, int]:
    """Scores every partition of `input_directory` on `engine`: their output files and rows."""
    if engine not in ENGINES:
        raise ValueError(f"compute engine `{engine}` is not one of {', '.join(ENGINES)}")
    sources = partitions(input_directory)
    pairs = [(path, output_directory / path.relative_to(input_directory)) for path in sources]
    runners: dict[str, Callable[..., list[int]]] = {"local": score_local}
{%- if is_ray %}
    if engine == "ray":
        from . import cluster

        runners["ray"] = cluster.score_partitions
{%- endif %}
    rows = runners[engine](partial(score_partition, model), pairs)
    return {target: count for (_, target), count in zip(pairs, rows, strict=True)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score every partition of a data set.")
    add_model_argument(parser)
    parser.add_argument("--input", type=Path, required=True, help="directory of partitions")
    parser.add_argument("--output", type=Path, required=True, help="directory to write")
{%- if is_ray %}
    parser.add_argument(
        "--engine", choices=ENGINES, help="where to score (default: configs/compute.yaml's)"
    )
{%- endif %}
    args = parser.parse_args(argv)
{%- if is_ray %}
    engine = args.engine or configured_engine()
{%- else %}
    engine = configured_engine()
{%- endif %}
    try:
        model = load_model(args.model)
        written = score_directory(model, args.input, args.output, engine)
    except (ModelNotFoundError, SchemaError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for target, rows in written.items():
        print(f"scored {rows} rows into {target}")
    print(f"scored {len(written)} partitions of {args.input} on `{engine}` into {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
