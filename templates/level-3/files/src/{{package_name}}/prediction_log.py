"""The prediction log and the feedback log: what the application answered, and what was true.

Both are JSON Lines files, one record per line, appended by the application (paths in
`configs/serving.yaml`). A prediction record holds everything needed to judge it later and to
compare variants: its id, the request's key, the variant and model version that answered, the
features, the prediction{% if is_classification %} and probability{% endif %}, and the latency. A feedback record is a label for
a prediction id, posted to `POST /feedback` once the truth is known. `make ab-report` joins the
two; later levels monitor drift from the same log.

Requests whose key starts with `synthetic:` (the release tests send such keys) are logged but
marked, so that reports leave them out.

The application writes its prediction log in the background (`background=True`): a request puts
its records on a queue and is answered at once, and a thread of the log's own appends what is
queued every tenth of a second (`WRITE_SECONDS`), in whole lines, with one write per batch.
Stopping the application cleanly (the end of its lifespan, which SIGTERM and Ctrl-C reach, or the
interpreter's exit) writes everything queued before it stops, and a label is taken only once the
predictions before it are written, so the feedback log never names a prediction that the
prediction log lacks. What a crash (SIGKILL, running out of memory) loses is what was queued and
not yet written: the predictions answered in the last tenth of a second or so, and at most a last
line cut short, which `read` skips.
Several processes (the workers of one server) may append to the same file: each batch is one
`write` on a file opened for appending, so their lines do not interleave.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SYNTHETIC_PREFIX = "synthetic:"
# How often the application's prediction log writes what its requests queued.
WRITE_SECONDS = 0.1

logger = logging.getLogger(__name__)


def new_id() -> str:
    return uuid.uuid4().hex


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def is_synthetic(key: str) -> bool:
    return key.startswith(SYNTHETIC_PREFIX)


@dataclass(frozen=True)
class PredictionRecord:
    prediction_id: str
    request_id: str
    timestamp: str
    key: str
    variant: str
    model_version: str | None
    model_sha256: str
    features: dict[str, float]
{%- if is_classification %}
    prediction: int
    probability: float
{%- else %}
    prediction: float
{%- endif %}
    latency_ms: float
    synthetic: bool


@dataclass(frozen=True)
class FeedbackRecord:
    prediction_id: str
{%- if is_classification %}
    label: int
{%- else %}
    label: float
{%- endif %}
    received_at: str


class JsonLines:
    """Appends records to a JSON Lines file, whole lines at a time, from any thread. Without a
    path it keeps nothing, for a service that is told not to log. With `background`, `append`
    only queues the records, and a thread of the log's own writes what is queued every
    `WRITE_SECONDS` (`flush` has it write at once and waits, `close` stops it)."""

    def __init__(self, path: Path | None, *, background: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Appending to a deque wakes no thread: a request pays for nothing more.
        self._pending: collections.deque[list[dict[str, Any]] | threading.Event | None] | None
        self._pending = None
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        if path is not None and background:
            self._pending = collections.deque()
            self._writer = threading.Thread(
                target=self._write_pending, name=f"log {path}", daemon=True
            )
            self._writer.start()
            atexit.register(self.close)

    def append(self, records: list[dict[str, Any]]) -> None:
        if self.path is None or not records:
            return
        pending = self._pending
        if pending is not None:
            pending.append(records)
        else:
            self._write(records)

    def flush(self) -> None:
        """Waits until every record appended before is written."""
        pending = self._pending
        if pending is not None and self._writer is not None and self._writer.is_alive():
            written = threading.Event()
            pending.append(written)
            self._wake.set()
            written.wait()

    def close(self) -> None:
        """Writes what is queued and stops the writer; later records are written at once."""
        pending = self._pending
        if pending is not None and self._writer is not None:
            pending.append(None)
            self._wake.set()
            self._writer.join()
        self._pending = None

    def _write(self, records: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records)
        data = text.encode()
        assert self.path is not None
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                while data:
                    data = data[os.write(descriptor, data) :]
            finally:
                os.close(descriptor)

    def _write_pending(self) -> None:
        """The writer: every `WRITE_SECONDS`, or at once when woken, writes what is queued in one
        go; it stops at the `None` that `close` queues."""
        assert self._pending is not None
        pending = self._pending
        while True:
            self._wake.wait(WRITE_SECONDS)
            self._wake.clear()
            items = []
            while pending:
                items.append(pending.popleft())
            records = [record for item in items if isinstance(item, list) for record in item]
            if records:
                try:
                    self._write(records)
                except Exception:
                    # The writer goes on: the next records may well be written (a full disk
                    # freed, say), and `flush` must not wait for a thread that is gone.
                    logger.exception("cannot write %d records to %s", len(records), self.path)
            for item in items:
                if isinstance(item, threading.Event):
                    item.set()
            if any(item is None for item in items):
                return


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines file; a line cut short by a crash is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


class PredictionLog(JsonLines):
    def record(
        self,
        *,
        key: str,
        variant: str,
        model_version: str | None,
        model_sha256: str,
        rows: list[dict[str, float]],
{%- if is_classification %}
        predictions: list[int],
        probabilities: list[float],
{%- else %}
        predictions: list[float],
{%- endif %}
        latency_ms: float,
    ) -> list[str]:
        """Logs one record per row of a request and returns their prediction ids."""
        request_id, timestamp = new_id(), now()
        records = [
            PredictionRecord(
                prediction_id=new_id(),
                request_id=request_id,
                timestamp=timestamp,
                key=key,
                variant=variant,
                model_version=model_version,
                model_sha256=model_sha256,
                features=row,
                prediction=prediction,
{%- if is_classification %}
                probability=probability,
{%- endif %}
                latency_ms=round(latency_ms, 3),
                synthetic=is_synthetic(key),
            )
{%- if is_classification %}
            for row, prediction, probability in zip(rows, predictions, probabilities, strict=True)
{%- else %}
            for row, prediction in zip(rows, predictions, strict=True)
{%- endif %}
        ]
        # A record's own fields, not `asdict`, which copies every row's features again and took
        # a tenth of a millisecond a row.
        self.append([vars(record) for record in records])
        return [record.prediction_id for record in records]


class FeedbackLog(JsonLines):
    def record(self, labels: list[tuple[str, {% if is_classification %}int{% else %}float{% endif %}]]) -> int:
        """Logs a label for each prediction id; returns how many."""
        received_at = now()
        records = [FeedbackRecord(pid, label, received_at) for pid, label in labels]
        self.append([vars(record) for record in records])
        return len(records)
