"""The application's endpoints, through FastAPI's test client."""

from __future__ import annotations

from pathlib import Path

import joblib
import pandas as pd
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


@pytest.fixture(scope="module")
def known_rows(dataset: pd.DataFrame) -> pd.DataFrame:
    """Rows of features whose answers the model file itself gives."""
    return dataset.drop(columns=["target"]).sample(20, random_state=3)


def test_the_served_predictions_are_the_models_for_each_row_in_order(
    client: TestClient, model_path: Path, known_rows: pd.DataFrame
) -> None:
    """The oracle is the model file, loaded apart from the application."""
    model = joblib.load(model_path)
    expected = model.predict(known_rows)
{%- if is_classification %}
    assert set(expected) == {0, 1}, "the rows should not all get the same class"
{%- endif %}
    response = client.post("/predict", json={"rows": known_rows.to_dict(orient="records")})
    assert response.status_code == 200, response.text
    body = response.json()
{%- if is_classification %}
    assert body["predictions"] == [int(value) for value in expected]
    probabilities = model.predict_proba(known_rows)[:, 1]
    assert body["probabilities"] == pytest.approx([float(value) for value in probabilities])
{%- else %}
    assert body["predictions"] == pytest.approx([float(value) for value in expected])
{%- endif %}


def test_each_answer_belongs_to_its_row_whatever_the_batch(
    client: TestClient, known_rows: pd.DataFrame
) -> None:
    rows = known_rows.to_dict(orient="records")
    key = "{% if is_classification %}probabilities{% else %}predictions{% endif %}"
    forward = client.post("/predict", json={"rows": rows}).json()[key]
    backward = client.post("/predict", json={"rows": rows[::-1]}).json()[key]
    alone = [client.post("/predict", json={"rows": [row]}).json()[key][0] for row in rows]
    assert len(set(forward)) > len(rows) // 2, "the rows should get different answers"
    assert backward == pytest.approx(forward[::-1])
    assert alone == pytest.approx(forward)


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
