"""The application's endpoints, through FastAPI's test client."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from {{ package_name }}.app import create_app


@pytest.fixture
def client(model_path: Path) -> TestClient:
    with TestClient(create_app(model_path)) as client:
        yield client


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model_loaded": True}


def test_version_names_the_model(client: TestClient, model_path: Path) -> None:
    body = client.get("/version").json()
    assert body["model_path"] == str(model_path)
    assert len(body["model_sha256"]) == 64
    assert "target" not in body["features"] and len(body["features"]) > 0


def test_predict(client: TestClient, sample_rows: list[dict[str, float]]) -> None:
    response = client.post("/predict", json={"rows": sample_rows})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["predictions"]) == len(sample_rows)
{%- if is_classification %}
    assert set(body["predictions"]) <= {0, 1}
    assert all(0.0 <= p <= 1.0 for p in body["probabilities"])
{%- else %}
    assert all(isinstance(value, float) for value in body["predictions"])
{%- endif %}


def test_predict_names_missing_and_unexpected_features(
    client: TestClient, sample_rows: list[dict[str, float]]
) -> None:
    row = dict(sample_rows[0])
    dropped = next(iter(row))
    del row[dropped]
    row["colour"] = 1.0
    response = client.post("/predict", json={"rows": [row]})
    assert response.status_code == 422
    assert response.json()["detail"] == {"row": 0, "missing": [dropped], "unexpected": ["colour"]}


@pytest.mark.parametrize(
    "body",
    [{"rows": []}, {"rows": [{"x": "not a number"}]}, {}, {"rows": "nope"}],
)
def test_predict_refuses_malformed_requests(client: TestClient, body: object) -> None:
    assert client.post("/predict", json=body).status_code == 422


def test_without_a_model_the_app_is_not_ready(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "missing.joblib")) as client:
{%- block without_a_model %}
        assert client.get("/health").status_code == 503
{%- endblock %}
        assert client.post("/predict", json={"rows": [{"x": 1.0}]}).status_code == 503
        assert client.get("/version").json()["model_sha256"] is None
