"""Post-deployment metrics: what the application exposes on /metrics, in Prometheus' format."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from {{ package_name }}.app import create_app
from {{ package_name }}.metrics import NAMESPACE

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample of /metrics, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((f"{NAMESPACE}_{name}", tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(model_path: Path) -> TestClient:
    with TestClient(create_app(model_path)) as client:
        yield client


def test_requests_errors_and_latency_are_counted_by_route(
    client: TestClient, sample_rows: list[dict[str, float]]
) -> None:
    for _ in range(3):
        assert client.post("/predict", json={"rows": sample_rows}).status_code == 200
    assert client.post("/predict", json={"rows": []}).status_code == 422
    assert client.get("/nowhere").status_code == 404

    samples = scrape(client)
    ok = {"method": "POST", "path": "/predict", "status": "200"}
    refused = {"method": "POST", "path": "/predict", "status": "422"}
    assert value(samples, "requests_total", **ok) == 3
    assert value(samples, "requests_total", **refused) == 1
    assert value(samples, "request_errors_total", **refused) == 1
    assert value(samples, "request_errors_total", **ok) == 0
    unknown = {"method": "GET", "path": "unmatched", "status": "404"}
    assert value(samples, "request_errors_total", **unknown) == 1
    timed = {"method": "POST", "path": "/predict"}
    assert value(samples, "request_latency_seconds_count", **timed) == 4
    assert value(samples, "request_latency_seconds_sum", **timed) > 0


def test_the_distribution_of_predictions_is_recorded(
    client: TestClient, sample_rows: list[dict[str, float]]
) -> None:
    answer = client.post("/predict", json={"rows": sample_rows}).json()
    samples = scrape(client)
    served = {"variant": "champion", "model_version": "unversioned"}
{%- if is_classification %}
    for label in (0, 1):
        expected = answer["predictions"].count(label)
        assert value(samples, "predictions_total", **served, label=str(label)) == expected
    histogram = "prediction_probability"
{%- else %}
    assert value(samples, "predictions_total", **served) == len(sample_rows)
    histogram = "prediction_value"
{%- endif %}
    assert value(samples, f"{histogram}_count", **served) == len(sample_rows)
    everything = value(samples, f"{histogram}_bucket", **served, le="+Inf")
    assert everything == len(answer["predictions"])


def test_the_model_served_is_a_metric(client: TestClient, model_path: Path) -> None:
    sha256 = client.get("/version").json()["model_sha256"]
    samples = scrape(client)
    info = {
        "variant": "champion",
        "model_version": "unversioned",
        "model_sha256": sha256,
        "source": str(model_path),
    }
    assert value(samples, "model_info", **info) == 1
