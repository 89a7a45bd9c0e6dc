"""Gather the raw data automatically: `python -m {{ package_name }}.data.ingest`.

Reads the source named in `configs/ingest.yaml` (the bundled data set, a CSV path or an http(s)
URL), writes it to `data/raw/dataset.csv` with the target column named `target`, and writes
`data/raw/dataset.meta.json` beside it: the source, row count, schema, SHA-256 and when it was
gathered. Running it again on unchanged data rewrites nothing, so it is safe to run on every build.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
{%- if is_classification %}
from sklearn.datasets import load_breast_cancer
{%- else %}
from sklearn.datasets import load_diabetes
{%- endif %}

DEFAULT_CONFIG = Path("configs/ingest.yaml")
TARGET = "target"
BUNDLED = "bundled"
CONFIG_KEYS = {"source", "target_column", "output"}


@dataclass(frozen=True)
class IngestConfig:
    source: str = BUNDLED
    target_column: str = TARGET
    output: Path = Path("data/raw/dataset.csv")

    @property
    def metadata_path(self) -> Path:
        return self.output.with_suffix(".meta.json")


@dataclass(frozen=True)
class IngestResult:
    path: Path
    metadata: dict[str, Any]
    changed: bool


def load_config(path: Path = DEFAULT_CONFIG) -> IngestConfig:
    """Reads the ingest configuration, refusing keys it does not know."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of {sorted(CONFIG_KEYS)}")
    unknown = set(raw) - CONFIG_KEYS
    if unknown:
        known = sorted(CONFIG_KEYS)
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; known keys are {known}")
    defaults = IngestConfig()
    return IngestConfig(
        source=str(raw.get("source", defaults.source)),
        target_column=str(raw.get("target_column", defaults.target_column)),
        output=Path(raw.get("output", defaults.output)),
    )


def column_name(name: object) -> str:
    """Feature names as JSON-friendly identifiers: `mean radius` becomes `mean_radius`."""
    return str(name).strip().replace(" ", "_")


def bundled_frame() -> pd.DataFrame:
    """The data set that ships with scikit-learn: no download, works offline."""
{%- if is_classification %}
    return load_breast_cancer(as_frame=True).frame
{%- else %}
    return load_diabetes(as_frame=True, scaled=False).frame
{%- endif %}


def read_source(config: IngestConfig) -> pd.DataFrame:
    """The source as a frame with normalised column names and the target named `target`."""
    if config.source == BUNDLED:
        frame = bundled_frame()
    elif config.source.startswith(("http://", "https://")):
        with urllib.request.urlopen(config.source, timeout=60) as response:
            frame = pd.read_csv(io.BytesIO(response.read()))
    else:
        frame = pd.read_csv(config.source)
    if config.target_column not in frame.columns:
        raise ValueError(
            f"the source {config.source!r} has no target column {config.target_column!r}; "
            f"its columns are {list(frame.columns)}"
        )
    frame = frame.rename(columns={config.target_column: TARGET})
    frame.columns = [column_name(column) for column in frame.columns]
    return frame


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_metadata(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def ingest(config: IngestConfig, now: datetime | None = None) -> IngestResult:
    """Writes the raw data and its metadata, unless the same data is already there."""
    frame = read_source(config)
    content = frame.to_csv(index=False, lineterminator="\n").encode()
    digest = sha256(content)
    existing = read_metadata(config.metadata_path)
    unchanged = (
        existing is not None
        and existing.get("sha256") == digest
        and config.output.exists()
        and sha256(config.output.read_bytes()) == digest
    )
    if unchanged:
        return IngestResult(config.output, existing, changed=False)
    metadata = {
        "source": config.source,
        "rows": len(frame),
        "columns": {column: str(dtype) for column, dtype in frame.dtypes.items()},
        "target": TARGET,
        "sha256": digest,
        "ingested_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    config.output.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(config.output, content)
    _write_atomically(config.metadata_path, (json.dumps(metadata, indent=2) + "\n").encode())
    return IngestResult(config.output, metadata, changed=True)


def load_dataset(config_path: Path = DEFAULT_CONFIG) -> pd.DataFrame:
    """The gathered raw data, gathering it first if it is not there yet."""
    config = load_config(config_path) if config_path.exists() else IngestConfig()
    if not config.output.exists():
        ingest(config)
    return pd.read_csv(config.output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gather the raw data and its metadata.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="ingest configuration")
    args = parser.parse_args(argv)
    result = ingest(load_config(args.config))
    verb = "wrote" if result.changed else "unchanged:"
    metadata = result.metadata
    print(f"{verb} {result.path}: {metadata['rows']} rows, sha256 {metadata['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
