"""The prediction log and the feedback log: what the application answered, and what was true.

Both are JSON Lines files, one record per line, appended by the application (paths in
`configs/serving.yaml`). A prediction record holds everything needed to judge it later and to
compare variants: its id, the request's key, the variant and model version that answered, the
features, the prediction{% if is_classification %} and probability{% endif %}, and the latency. A feedback record is a label for
a prediction id, posted to `POST /feedback` once the truth is known. `make ab-report` joins the
two; later levels monitor drift from the same log.

Requests whose key starts with `synthetic:` (the release tests send such keys) are logged but
marked, so that reports leave them out.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SYNTHETIC_PREFIX = "synthetic:"


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
    """Appends records to a JSON Lines file, one whole line at a time, from any thread. Without
    a path it keeps nothing, for a service that is told not to log."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, records: list[dict[str, Any]]) -> None:
        if self.path is None or not records:
            return
        text = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(text)


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
        self.append([asdict(record) for record in records])
        return [record.prediction_id for record in records]


class FeedbackLog(JsonLines):
    def record(self, labels: list[tuple[str, {% if is_classification %}int{% else %}float{% endif %}]]) -> int:
        """Logs a label for each prediction id; returns how many."""
        received_at = now()
        records = [FeedbackRecord(pid, label, received_at) for pid, label in labels]
        self.append([asdict(record) for record in records])
        return len(records)
