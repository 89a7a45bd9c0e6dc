"""The latency budget of configs/release.yaml, measured from the client's side."""

from __future__ import annotations

import math

from .conftest import Service, Settings


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of them do not exceed."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def test_single_rows_are_answered_within_the_budget(
    service: Service, rows: list[dict[str, float]], settings: Settings
) -> None:
    key = service.key()
    for row in rows[:5]:
        assert service.predict([row], key=key).status == 200
    seconds = []
    for index in range(settings.requests):
        response = service.predict([rows[index % len(rows)]], key=key)
        assert response.status == 200, response.body
        seconds.append(response.seconds)
    p50, p95 = percentile(seconds, 0.5) * 1000, percentile(seconds, 0.95) * 1000
    assert p95 <= settings.p95_ms, (
        f"p95 {p95:.1f} ms over {settings.requests} requests exceeds the budget of "
        f"{settings.p95_ms:g} ms (p50 {p50:.1f} ms)"
    )


def test_a_batch_is_answered_within_the_budget(
    service: Service, rows: list[dict[str, float]], settings: Settings
) -> None:
    batch = (rows * (settings.batch_rows // len(rows) + 1))[: settings.batch_rows]
    response = service.predict(batch)
    assert response.status == 200, response.body
    assert len(response.body["predictions"]) == settings.batch_rows
    elapsed, budget = response.seconds * 1000, settings.batch_ms
    assert elapsed <= budget, f"{len(batch)} rows took {elapsed:.0f} ms, over {budget:g} ms"
