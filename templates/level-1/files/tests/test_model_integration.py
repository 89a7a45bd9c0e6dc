"""Integration tests for the model file itself: what the application relies on."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest


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


def test_the_model_is_better_than_chance(
    model, features: pd.DataFrame, dataset: pd.DataFrame
) -> None:
{%- if is_classification %}
    accuracy = float((model.predict(features) == dataset["target"]).mean())
    majority = float(dataset["target"].value_counts(normalize=True).max())
    assert accuracy > majority
{%- else %}
    residual = float(((model.predict(features) - dataset["target"]) ** 2).mean())
    baseline = float(((dataset["target"] - dataset["target"].mean()) ** 2).mean())
    assert residual < baseline
{%- endif %}


def test_a_bad_schema_is_rejected(model, features: pd.DataFrame) -> None:
    with pytest.raises(ValueError):
        model.predict(features.drop(columns=[features.columns[0]]).head(3))
    renamed = features.head(3).rename(columns={features.columns[0]: "not_a_feature"})
    with pytest.raises(ValueError):
        model.predict(renamed)
