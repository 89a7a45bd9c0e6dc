"""Snapshots of labelled production data: immutable, content-addressed, each with its manifest.

`make collect` (collect.py) writes one snapshot per collection, of the rows not collected before;
training (training_data.py) reads the snapshots within the window of configs/train.yaml. A
snapshot is a directory under data/snapshots/ named after its content:

    data/snapshots/<id>/manifest.json
    data/snapshots/<id>/day=<YYYY-MM-DD>/part-0.parquet    one partition per day of predictions

The digest is the SHA-256 of the rows in a canonical form (sorted by prediction id, as CSV), so
the same rows give the same digest whatever writes the Parquet files; the id is its first 16 hex
digits. The manifest records the digest, the schema, each partition's file and SHA-256, the
sources the rows came from (with their SHA-256) and what was excluded and why.

Immutability: a snapshot is written into a temporary directory and renamed into place in one
step, its files are read-only, and a snapshot that exists is never written again. `verify` reads
one back and checks every file's SHA-256 and the digest of its rows against the manifest, and the
rows against the training schema; training leaves out, and reports, a snapshot that fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .data.ingest import TARGET
from .data.validate import Schema, problems

DEFAULT_ROOT = Path("data/snapshots")
MANIFEST = "manifest.json"
# The columns a snapshot holds besides the features and the target.
PREDICTION_ID, TIMESTAMP = "prediction_id", "timestamp"
ID_LENGTH = 16


class SnapshotError(ValueError):
    """A snapshot that cannot be written, or read back as its manifest says."""


@dataclass(frozen=True)
class Snapshot:
    """A snapshot on disk: where it is and what its manifest says."""

    path: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def digest(self) -> str:
        return str(self.manifest["digest"])

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["created_at"])


@dataclass(frozen=True)
class Written:
    snapshot: Snapshot
    created: bool  # False when a snapshot of exactly these rows existed already


@dataclass
class Verified:
    """A snapshot read back: its rows when it passed, else why it did not."""

    snapshot: Snapshot
    frame: pd.DataFrame | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def columns(schema: Schema) -> list[str]:
    return [PREDICTION_ID, TIMESTAMP, *schema.features, TARGET]


def schema_problems(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """How the rows depart from the training schema (data/validate.py), but for the labels a
    data set must hold all of: a snapshot may hold some of them only."""
    found = problems(frame[[*schema.features, TARGET]], schema)
{%- if is_classification %}
    found = [problem for problem in found if not problem.startswith("the target should hold")]
    labels = set(frame[TARGET].unique().tolist())
    if not found and not labels <= {0, 1}:
        found.append(f"the target should hold the labels 0 and 1 only, not {sorted(labels)[:10]}")
{%- endif %}
    return found


def canonical(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The rows in the one order and form the digest is computed on."""
    ordered = frame[columns(schema)].sort_values(PREDICTION_ID, kind="stable")
    return ordered.reset_index(drop=True)


def digest(frame: pd.DataFrame, schema: Schema) -> str:
    text = canonical(frame, schema).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load(path: Path) -> Snapshot:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise SnapshotError(f"`{path}`: no readable {MANIFEST}: {error}") from None
    missing = {"id", "digest", "rows", "created_at", "partitions"} - set(manifest)
    if missing:
        raise SnapshotError(f"`{path / MANIFEST}`: missing {sorted(missing)}")
    return Snapshot(path, manifest)


def listed(root: Path = DEFAULT_ROOT) -> list[Snapshot]:
    """Every snapshot under `root`, oldest first; a directory without a readable manifest is
    skipped (a write that was interrupted leaves only a hidden temporary directory)."""
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and not path.name.startswith("."):
            try:
                found.append(load(path))
            except SnapshotError:
                continue
    return sorted(found, key=lambda snapshot: (snapshot.created_at, snapshot.id))


def collected_ids(root: Path = DEFAULT_ROOT) -> set[str]:
    """The prediction ids already in a snapshot, which a new one must not hold again."""
    ids: set[str] = set()
    for snapshot in listed(root):
        ids.update(str(value) for value in snapshot.manifest.get("prediction_ids", []))
    return ids


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def write(
    frame: pd.DataFrame,
    schema: Schema,
    *,
    root: Path = DEFAULT_ROOT,
    sources: list[dict[str, Any]] | None = None,
    excluded: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Written:
    """Writes `frame` (prediction id, timestamp, features, target) as a snapshot under `root`,
    unless a snapshot of the same rows exists; raises `SnapshotError` on rows that do not match
    the schema, so nothing that fails validation is ever written."""
    if frame.empty:
        raise SnapshotError("no rows to snapshot")
    found = schema_problems(frame, schema)
    if frame[PREDICTION_ID].duplicated().any():
        found.append("prediction ids are not unique")
    if found:
        raise SnapshotError("the rows do not match the schema: " + "; ".join(found))
    rows = canonical(frame, schema)
    content_digest = digest(rows, schema)
    identity = content_digest[:ID_LENGTH]
    target = root / identity
    if target.exists():
        return Written(load(target), created=False)

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{identity}-", dir=root))
    try:
        partitions = []
        days = rows[TIMESTAMP].astype(str).str.slice(0, 10)
        for day in sorted(days.unique()):
            relative = Path(f"day={day}") / "part-0.parquet"
            (staging / relative.parent).mkdir()
            part = rows[days == day].reset_index(drop=True)
            part.to_parquet(staging / relative, index=False)
            partitions.append(
                {
                    "path": relative.as_posix(),
                    "rows": len(part),
                    "sha256": file_sha256(staging / relative),
                }
            )
        manifest = {
            "id": identity,
            "digest": content_digest,
            "rows": len(rows),
            "created_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
            "schema": schema.columns,
            "partitions": partitions,
            "sources": sources or [],
            "excluded": excluded or {},
            "prediction_ids": rows[PREDICTION_ID].astype(str).tolist(),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for path in staging.rglob("*"):
            if path.is_file():
                _read_only(path)
        # mkdtemp makes the directory private; a snapshot is for everyone who trains to read.
        staging.chmod(0o755)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if target.exists() and not (target / MANIFEST).exists():
            shutil.rmtree(target, ignore_errors=True)
        raise
    return Written(load(target), created=True)


def verify(snapshot: Snapshot, schema: Schema) -> Verified:
    """Reads the snapshot back and checks it against its manifest and the schema."""
    found = []
    if snapshot.path.name != snapshot.id:
        found.append(f"its directory `{snapshot.path.name}` is not its id `{snapshot.id}`")
    parts = []
    for partition in snapshot.manifest["partitions"]:
        path = snapshot.path / partition["path"]
        if not path.is_file():
            found.append(f"partition `{partition['path']}` is missing")
            continue
        if file_sha256(path) != partition["sha256"]:
            found.append(f"partition `{partition['path']}` changed since it was written")
            continue
        parts.append(pd.read_parquet(path))
    if found:
        return Verified(snapshot, problems=found)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    missing = set(columns(schema)) - set(frame.columns)
    if missing:
        return Verified(snapshot, problems=[f"columns missing: {sorted(missing)}"])
    found = schema_problems(frame, schema)
    if not found and digest(frame, schema) != snapshot.digest:
        found.append("its rows do not match the digest of its manifest")
    if not found and len(frame) != snapshot.rows:
        found.append(f"{len(frame)} rows, not the {snapshot.rows} of its manifest")
    if found:
        return Verified(snapshot, problems=found)
    return Verified(snapshot, frame=canonical(frame, schema))
