"""The scoring module, from a model file and from the registry, its batch command, and the
application serving a registered version through it."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from {{ package_name }} import registry
from {{ package_name }}.app import create_app
from {{ package_name }}.score import (
    ModelNotFoundError,
    SchemaError,
    load_available_model,
    load_model,
    main,
    predict,
)


@pytest.fixture
def features(dataset: pd.DataFrame) -> pd.DataFrame:
    return dataset.drop(columns=["target"]).head(20)


def test_a_model_file_is_loaded_with_its_features_and_digest(
    model_path: Path, features: pd.DataFrame
) -> None:
    model = load_model(model_path)
    assert model.features == list(features.columns)
    assert len(model.sha256) == 64
    assert model.version is None


def test_predictions_are_the_models_for_each_row_in_order(
    model_path: Path, features: pd.DataFrame
) -> None:
    """The oracle is the fitted model itself, called without the scoring module."""
    model = joblib.load(model_path)
    scored = predict(load_model(model_path), features)
{%- if is_classification %}
    assert scored.predictions == [int(value) for value in model.predict(features)]
    assert scored.probabilities == pytest.approx(model.predict_proba(features)[:, 1].tolist())
    assert [p >= 0.5 for p in scored.probabilities] == [bool(v) for v in scored.predictions]
{%- else %}
    assert scored.predictions == pytest.approx(model.predict(features).tolist())
    assert all(isinstance(value, float) and np.isfinite(value) for value in scored.predictions)
{%- endif %}


def test_missing_features_are_named_and_extra_columns_ignored(
    model_path: Path, features: pd.DataFrame
) -> None:
    model = load_model(model_path)
    dropped = features.columns[3]
    with pytest.raises(SchemaError) as raised:
        predict(model, features.drop(columns=[dropped]))
    assert raised.value.missing == [dropped]
    shuffled = features[list(reversed(features.columns))].assign(id=range(len(features)))
    assert predict(model, shuffled) == predict(model, features)


def test_a_registered_version_is_loaded_by_alias(
    trained_tracking_uri: str, trained_store: Path, features: pd.DataFrame
) -> None:
    client = MlflowClient(trained_tracking_uri)
    registry.set_alias(client, registry.CHAMPION, "1")

    model = load_model(registry.model_uri(alias=registry.CHAMPION))

    assert model.version == "1"
    assert model.source == "models:/{{ package_name }}@champion"
    assert len(model.sha256) == 64
    # The pipeline wrote the same model to a file: both answer alike.
    from_file = load_model(trained_store.parent / "model.joblib")
    from_registry = predict(model, features).predictions
    assert np.allclose(from_registry, predict(from_file, features).predictions)


def test_no_model_is_an_error_or_none(trained_tracking_uri: str, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        load_model(tmp_path / "missing.joblib")
    # Trained and gated, not yet released: the error says what to run.
    with pytest.raises(ModelNotFoundError, match=r"`make promote VERSION=N`"):
        load_model(registry.model_uri(alias=registry.CHAMPION))
    with pytest.raises(ModelNotFoundError):
        load_model(registry.model_uri("42"))
    assert load_available_model(registry.model_uri(alias=registry.CHAMPION)) is None


def test_batch_scoring_keeps_the_input_columns_and_adds_predictions(
    model_path: Path, dataset: pd.DataFrame, tmp_path: Path
) -> None:
    rows = dataset.sample(30, random_state=5).assign(id=range(30))
    source, output = tmp_path / "rows.csv", tmp_path / "out" / "scored.csv"
    rows.to_csv(source, index=False)

    assert main(["--model", str(model_path), "--input", str(source), "--output", str(output)]) == 0

    scored = pd.read_csv(output)
    assert list(scored.columns[: len(rows.columns)]) == list(rows.columns)
    assert scored["id"].tolist() == list(range(30))
    # The oracle: the fitted model itself on the same rows, not the code under test.
    model = joblib.load(model_path)
    features = rows[list(model.feature_names_in_)]
{%- if is_classification %}
    assert set(model.predict(features)) == {0, 1}, "the rows should not all get the same class"
    assert scored["prediction"].tolist() == model.predict(features).tolist()
    assert np.allclose(scored["probability"], model.predict_proba(features)[:, 1])
{%- else %}
    assert np.allclose(scored["prediction"], model.predict(features))
{%- endif %}


def test_batch_scoring_fails_on_missing_features_or_model(
    model_path: Path, dataset: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "rows.csv", tmp_path / "scored.csv"
    dataset.drop(columns=[dataset.columns[0]]).head(5).to_csv(source, index=False)
    assert main(["--model", str(model_path), "--input", str(source), "--output", str(output)]) == 1
    assert f"missing features: {dataset.columns[0]}" in capsys.readouterr().err
    missing = tmp_path / "none.joblib"
    assert main(["--model", str(missing), "--input", str(source), "--output", str(output)]) == 1
    assert not output.exists()


def test_the_app_serves_the_registered_champion(
    trained_tracking_uri: str, sample_rows: list[dict[str, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry.set_alias(MlflowClient(trained_tracking_uri), registry.CHAMPION, "1")
    monkeypatch.setenv("MODEL_URI", registry.model_uri(alias=registry.CHAMPION))

    with TestClient(create_app()) as client:
        version = client.get("/version").json()
        assert version["model_version"] == "1"
        assert version["model_path"] == "models:/{{ package_name }}@champion"
        response = client.post("/predict", json={"rows": sample_rows})
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == len(sample_rows)


def test_the_app_is_not_ready_until_a_champion_is_released(
    trained_tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_URI", registry.model_uri(alias=registry.CHAMPION))
    with TestClient(create_app()) as client:
{%- block not_ready %}
        assert client.get("/health").status_code == 503
{%- endblock %}
