"""Behavioural checks: what the served model must do, beyond answering in the right shape.

Invariance (the same rows give the same answers, however they are sent), known cases scored at
least as well as configs/release.yaml requires, and directional expectations: raising a feature
moves the {% if is_classification %}probability of class 1{% else %}prediction{% endif %} the way the domain says it must.
"""

from __future__ import annotations

{%- if not is_classification %}

import math
{%- endif %}

import pandas as pd
import pytest

from .conftest import Service, Settings

# Answers closer than this are equal: the same model, serialised floats.
TOLERANCE = 1e-9


def outputs(service: Service, rows: list[dict[str, float]], key: str) -> list[float]:
    """What the directional checks compare: the {% if is_classification %}probability of class 1{% else %}prediction{% endif %} of each row."""
    response = service.predict(rows, key=key)
    assert response.status == 200, response.body
    return [float(value) for value in response.body["{% if is_classification %}probabilities{% else %}predictions{% endif %}"]]


def test_the_same_rows_get_the_same_answers(service: Service, rows: list[dict[str, float]]) -> None:
    key = service.key()
    first = service.predict(rows, key=key).body
    second = service.predict(rows, key=key).body
    assert first["predictions"] == second["predictions"]
{%- if is_classification %}
    assert first["probabilities"] == pytest.approx(second["probabilities"], abs=TOLERANCE)
{%- endif %}


def test_a_batch_is_scored_as_its_rows_one_by_one(
    service: Service, rows: list[dict[str, float]]
) -> None:
    key = service.key()
    batch = outputs(service, rows[:10], key)
    one_by_one = [outputs(service, [row], key)[0] for row in rows[:10]]
    assert batch == pytest.approx(one_by_one, abs=TOLERANCE)


def test_the_order_of_the_features_does_not_matter(
    service: Service, rows: list[dict[str, float]]
) -> None:
    key = service.key()
    reordered = [dict(reversed(list(row.items()))) for row in rows]
    expected = outputs(service, rows, key)
    assert outputs(service, reordered, key) == pytest.approx(expected, abs=TOLERANCE)


def test_known_cases_are_scored_well_enough(
    service: Service, data: pd.DataFrame, features: list[str], settings: Settings
) -> None:
    known = data.sample(min(settings.known_rows, len(data)), random_state=1)
    response = service.predict(known[features].to_dict(orient="records"))
    assert response.status == 200, response.body
    predicted = pd.Series(response.body["predictions"], index=known.index)
{%- if is_classification %}
    accuracy = float((predicted == known["target"]).mean())
    assert accuracy >= settings.known_limits["min_accuracy"], f"accuracy {accuracy:.3f}"
{%- else %}
    rmse = math.sqrt(float(((predicted - known["target"]) ** 2).mean()))
    assert rmse <= settings.known_limits["max_rmse"], f"RMSE {rmse:.2f}"
{%- endif %}
{%- if is_classification %}


def test_the_predicted_class_follows_the_probability(
    service: Service, rows: list[dict[str, float]]
) -> None:
    body = service.predict(rows).body
    assert body["predictions"] == [int(p >= 0.5) for p in body["probabilities"]]
{%- endif %}


def test_a_directional_expectation_holds(
    service: Service,
    data: pd.DataFrame,
    rows: list[dict[str, float]],
    settings: Settings,
    expectation: tuple[str, str],
) -> None:
    feature, direction = expectation
    assert feature in rows[0], f"configs/release.yaml: the model does not take `{feature}`"
    step = settings.step * float(data[feature].std())
    raised = [{**row, feature: row[feature] + step} for row in rows]
    key = service.key()
    sign = 1 if direction == "increases" else -1
    before, after = outputs(service, rows, key), outputs(service, raised, key)
    changes = [sign * (moved - was) for was, moved in zip(before, after, strict=True)]
    against = [change for change in changes if change < -TOLERANCE]
    assert not against, f"raising `{feature}` moved {len(against)}/{len(rows)} rows the wrong way"
    assert sum(changes) / len(changes) > 0, f"raising `{feature}` does not move the output at all"
