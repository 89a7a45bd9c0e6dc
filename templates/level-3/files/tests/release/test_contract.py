"""The endpoint contract: what clients of the service rely on, whatever the model."""

from __future__ import annotations

import os
from typing import Any

import pytest

from .conftest import Service

MAX_ROWS = 1000


def test_health_says_the_service_is_ready(service: Service) -> None:
    response = service.get("/health")
    assert response.status == 200, response.body
    assert response.body == {"status": "ok", "model_loaded": True}
{%- block tests_after_health %}{% endblock %}


def test_version_names_the_model_it_serves(version: dict[str, Any]) -> None:
    assert len(version["model_sha256"]) == 64
    assert version["features"] and "target" not in version["features"]
    names = [variant["name"] for variant in version["variants"]]
    assert names[0] == "champion" and set(names) <= {"champion", "challenger"}
    assert sum(variant["share"] for variant in version["variants"]) == pytest.approx(1.0)
    expected = os.environ.get("EXPECTED_MODEL_VERSION")
    if expected:
        assert version["model_version"] == expected
        assert [variant["model_version"] for variant in version["variants"]] == [expected]


def test_predict_answers_one_prediction_per_row(
    service: Service, rows: list[dict[str, float]], version: dict[str, Any]
) -> None:
    response = service.predict(rows[:5])
    assert response.status == 200, response.body
    body = response.body
    assert len(body["predictions"]) == 5
{%- if is_classification %}
    assert set(body["predictions"]) <= {0, 1}
    assert len(body["probabilities"]) == 5
    assert all(0.0 <= p <= 1.0 for p in body["probabilities"])
{%- else %}
    assert all(isinstance(value, float) for value in body["predictions"])
{%- endif %}
    assert len(set(body["prediction_ids"])) == 5
    served = {variant["name"]: variant for variant in version["variants"]}
    assert body["variant"] in served
    assert body["model_version"] == served[body["variant"]]["model_version"]
    assert body["model_sha256"] == served[body["variant"]]["model_sha256"]


def test_missing_and_unexpected_features_are_named(
    service: Service, rows: list[dict[str, float]]
) -> None:
    row = dict(rows[0])
    dropped = next(iter(row))
    del row[dropped]
    row["colour"] = 1.0
    response = service.predict([row])
    assert response.status == 422
    assert response.body["detail"] == {"row": 0, "missing": [dropped], "unexpected": ["colour"]}


@pytest.mark.parametrize(
    "body",
    [
        {"rows": []},
        {"rows": [{"x": "not a number"}]},
        {},
        {"rows": "nope"},
        {"rows": [{}], "key": ""},
    ],
    ids=["no-rows", "text-value", "empty-body", "rows-not-a-list", "empty-key"],
)
def test_malformed_requests_are_refused(service: Service, body: object) -> None:
    assert service.post("/predict", body).status == 422


def test_too_many_rows_are_refused(service: Service, rows: list[dict[str, float]]) -> None:
    too_many = (rows * (MAX_ROWS // len(rows) + 1))[: MAX_ROWS + 1]
    assert service.predict(too_many).status == 422


def test_labels_are_accepted_for_predictions(
    service: Service, rows: list[dict[str, float]]
) -> None:
    predicted = service.predict(rows[:3]).body
    labels = [
        {"prediction_id": pid, "label": value}
        for pid, value in zip(predicted["prediction_ids"], predicted["predictions"], strict=True)
    ]
    response = service.feedback({"labels": labels})
    assert response.status == 200, response.body
    assert response.body == {"received": 3}
    bad = {"labels": [{"prediction_id": predicted["prediction_ids"][0], "label": "yes"}]}
    assert service.feedback(bad).status == 422
    assert service.feedback({"labels": []}).status == 422
    if service.feedback_token:
        # A service with a token takes no labels without it.
        assert service.feedback({"labels": labels}, with_token=False).status == 401


def test_unknown_routes_and_methods_are_refused(service: Service) -> None:
    assert service.get("/no-such-endpoint").status == 404
    assert service.get("/predict").status == 405


def test_the_same_key_always_gets_the_same_variant(
    service: Service, rows: list[dict[str, float]]
) -> None:
    for _ in range(3):
        key = service.key()
        answers = [service.predict(rows[:1], key=key).body for _ in range(4)]
        assert len({(answer["variant"], answer["model_version"]) for answer in answers}) == 1
