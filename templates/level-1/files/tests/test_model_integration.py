"""Integration tests for the model file itself: what the application relies on."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from fastapi import HTTPException

from {{ package_name }} import train
from {{ package_name }}.app import check_schema


@pytest.fixture(scope="module")
def model(model_path: Path):
    return joblib.load(model_path)


@pytest.fixture(scope="module")
def features(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.drop(columns=["target"])


def test_the_model_expects_the_data_set_features(model, features: pd.DataFrame) -> None:
    assert list(model.feature_names_in_) == list(features.columns)


def test_predictions_have_the_right_shape_type_and_range(
    model, features: pd.DataFrame, dataset: pd.DataFrame
) -> None:
    sample = features.sample(50, random_state=0)
    predictions = model.predict(sample)
    assert predictions.shape == (50,)
{%- if is_classification %}
    assert set(np.unique(predictions)) <= set(np.unique(dataset["target"]))
    probabilities = model.predict_proba(sample)
    assert probabilities.shape == (50, 2)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
{%- else %}
    assert np.issubdtype(predictions.dtype, np.floating)
    assert np.all(np.isfinite(predictions))
    target = dataset["target"]
    spread = target.max() - target.min()
    assert predictions.min() >= target.min() - spread
    assert predictions.max() <= target.max() + spread
{%- endif %}


@pytest.fixture(scope="module")
def held_out(dataset: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows training used and the rows it held out (train.py's split)."""
    return train.split(dataset)


def test_the_model_beats_a_baseline_on_rows_it_never_saw(
    model, held_out: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    trained_on, unseen = held_out
    features, target = unseen.drop(columns=["target"]), unseen["target"]
{%- if is_classification %}
    accuracy = float((model.predict(features) == target).mean())
    # The baseline predicts the most frequent class of the training rows for every row.
    baseline = float((target == trained_on["target"].mode()[0]).mean())
    # At least half of the way from the baseline to a perfect score.
    assert accuracy >= baseline + (1 - baseline) / 2, (accuracy, baseline)
{%- else %}
    squared_error = float(((model.predict(features) - target) ** 2).mean())
    # The baseline predicts the mean of the training rows for every row.
    baseline = float(((target - trained_on["target"].mean()) ** 2).mean())
    # At least a quarter of the baseline's squared error explained (R² above 0.25 or so).
    assert squared_error <= 0.75 * baseline, (squared_error, baseline)
{%- endif %}


def test_rows_with_a_bad_schema_are_refused_before_they_reach_the_model(
    model, features: pd.DataFrame
) -> None:
    """The application checks every row against the feature names the model file records."""
    recorded = [str(name) for name in model.feature_names_in_]
    rows = features.head(2).to_dict(orient="records")
    check_schema(rows, recorded)
    renamed = dict(rows[1])
    renamed["not_a_feature"] = renamed.pop(recorded[0])
    with pytest.raises(HTTPException) as raised:
        check_schema([rows[0], renamed], recorded)
    assert raised.value.status_code == 422
    assert raised.value.detail == {
        "row": 1,
        "missing": [recorded[0]],
        "unexpected": ["not_a_feature"],
    }
