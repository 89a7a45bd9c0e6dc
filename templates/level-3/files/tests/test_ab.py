"""The application in A/B: routing by key, the prediction log and the feedback endpoint, which
takes labels only with its token or on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from {{ package_name }}.access import bound_to_loopback, is_loopback
from {{ package_name }}.app import create_app
from {{ package_name }}.prediction_log import read
from {{ package_name }}.score import load_model


@pytest.fixture
def ab_client(
    model_path: Path, challenger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    """The champion (the model under test) and a challenger, half of the traffic each."""
    monkeypatch.setenv("CHALLENGER_URI", str(challenger_path))
    monkeypatch.setenv("CHALLENGER_SHARE", "0.5")
    with TestClient(create_app(model_path)) as client:
        yield client


def test_version_lists_both_variants_and_their_shares(
    ab_client: TestClient, model_path: Path, challenger_path: Path
) -> None:
    variants = ab_client.get("/version").json()["variants"]
    assert [(v["name"], v["share"]) for v in variants] == [("champion", 0.5), ("challenger", 0.5)]
    assert variants[0]["model_sha256"] == load_model(model_path).sha256
    assert variants[1]["model_sha256"] == load_model(challenger_path).sha256


def test_requests_are_routed_by_key_and_stick(
    ab_client: TestClient, sample_rows: list[dict[str, float]]
) -> None:
    seen = {}
    for index in range(40):
        key = f"user-{index}"
        answers = [
            ab_client.post("/predict", json={"rows": sample_rows[:1], "key": key}).json()
            for _ in range(3)
        ]
        assert len({(a["variant"], a["model_sha256"]) for a in answers}) == 1
        seen[key] = answers[0]["variant"]
    assert set(seen.values()) == {"champion", "challenger"}


def test_every_prediction_is_logged_with_its_variant(
    ab_client: TestClient, sample_rows: list[dict[str, float]], serving_logs: Path
) -> None:
    body = ab_client.post("/predict", json={"rows": sample_rows, "key": "user-1"}).json()

    records = list(read(serving_logs / "predictions.jsonl"))
    assert [r["prediction_id"] for r in records] == body["prediction_ids"]
    assert len({r["request_id"] for r in records}) == 1
    for record, row, prediction in zip(records, sample_rows, body["predictions"], strict=True):
        assert record["key"] == "user-1"
        assert record["variant"] == body["variant"]
        assert record["model_sha256"] == body["model_sha256"]
        assert record["features"] == row
        assert record["prediction"] == prediction
        assert record["latency_ms"] > 0
        assert record["synthetic"] is False
{%- if is_classification %}
    assert [r["probability"] for r in records] == body["probabilities"]
{%- endif %}

    ab_client.post("/predict", json={"rows": sample_rows[:1], "key": "synthetic:check"})
    assert list(read(serving_logs / "predictions.jsonl"))[-1]["synthetic"] is True


def test_labels_are_logged_against_prediction_ids(
    ab_client: TestClient, sample_rows: list[dict[str, float]], serving_logs: Path
) -> None:
    ids = ab_client.post("/predict", json={"rows": sample_rows[:2]}).json()["prediction_ids"]
    labels = [{"prediction_id": ids[0], "label": 1}, {"prediction_id": ids[1], "label": 0}]

    response = ab_client.post("/feedback", json={"labels": labels})

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 2}
    logged = list(read(serving_logs / "feedback.jsonl"))
    assert [(r["prediction_id"], r["label"]) for r in logged] == [(ids[0], 1), (ids[1], 0)]
    assert all(r["received_at"] for r in logged)


@pytest.mark.parametrize(
    "labels",
    [
        [],
        [{"prediction_id": "", "label": 1}],
        [{"prediction_id": "abc"}],
        [{"prediction_id": "abc", "label": "positive"}],
{%- if is_classification %}
        [{"prediction_id": "abc", "label": 2}],
{%- endif %}
    ],
)
def test_malformed_labels_are_refused(
    ab_client: TestClient, labels: list[dict[str, object]], serving_logs: Path
) -> None:
    assert ab_client.post("/feedback", json={"labels": labels}).status_code == 422
    assert not (serving_logs / "feedback.jsonl").exists()


def labels_for(client: TestClient, rows: list[dict[str, float]]) -> dict[str, object]:
    ids = client.post("/predict", json={"rows": rows}).json()["prediction_ids"]
    return {"labels": [{"prediction_id": pid, "label": 1} for pid in ids]}


@pytest.mark.parametrize("host", [None, "0.0.0.0", "::", "10.1.2.3"])
def test_labels_are_refused_off_loopback_without_a_token(
    model_path: Path,
    sample_rows: list[dict[str, float]],
    serving_logs: Path,
    monkeypatch: pytest.MonkeyPatch,
    host: str | None,
) -> None:
    """The image binds 0.0.0.0 and does not say so: an unknown address counts as public."""
    if host is None:
        monkeypatch.delenv("UVICORN_HOST")
    else:
        monkeypatch.setenv("UVICORN_HOST", host)
    with TestClient(create_app(model_path)) as client:
        response = client.post("/feedback", json=labels_for(client, sample_rows[:2]))
        assert response.status_code == 403
        assert "set FEEDBACK_TOKEN" in response.json()["detail"]
        # Refused before the body is read: a malformed body is refused the same way.
        assert client.post("/feedback", json={"labels": []}).status_code == 403
    assert not (serving_logs / "feedback.jsonl").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_with_a_token_labels_need_it_wherever_the_application_listens(
    model_path: Path,
    sample_rows: list[dict[str, float]],
    serving_logs: Path,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
) -> None:
    monkeypatch.setenv("UVICORN_HOST", host)
    monkeypatch.setenv("FEEDBACK_TOKEN", "s3cret")
    with TestClient(create_app(model_path)) as client:
        labels = labels_for(client, sample_rows[:2])
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret"}):
            response = client.post("/feedback", json=labels, headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["WWW-Authenticate"] == "Bearer"
        assert not (serving_logs / "feedback.jsonl").exists()
        right = {"Authorization": "Bearer s3cret"}
        response = client.post("/feedback", json=labels, headers=right)
        assert response.status_code == 200 and response.json() == {"received": 2}


def test_on_loopback_without_a_token_labels_are_taken(
    model_path: Path, sample_rows: list[dict[str, float]], serving_logs: Path
) -> None:
    """The local default: `make serve` binds 127.0.0.1 and says so (UVICORN_HOST)."""
    with TestClient(create_app(model_path)) as client:
        response = client.post("/feedback", json=labels_for(client, sample_rows[:2]))
    assert response.status_code == 200, response.text
    assert len(list(read(serving_logs / "feedback.jsonl"))) == 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert bound_to_loopback({"UVICORN_HOST": host}) is loopback
    assert bound_to_loopback({}) is False


def test_without_a_challenger_the_champion_answers_everything(
    model_path: Path, sample_rows: list[dict[str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHALLENGER_SHARE", "0.5")
    with TestClient(create_app(model_path)) as client:
        assert [v["name"] for v in client.get("/version").json()["variants"]] == ["champion"]
        answers = [
            client.post("/predict", json={"rows": sample_rows[:1], "key": f"k{i}"}).json()
            for i in range(20)
        ]
        assert {answer["variant"] for answer in answers} == {"champion"}
