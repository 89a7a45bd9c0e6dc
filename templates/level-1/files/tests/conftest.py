"""Shared fixtures: a data set gathered into a temporary directory, and a trained model file.
{%- if level >= 2 %}

From level 2, also MLflow tracking stores of each test's own and the training pipeline run into
them.
{% endif %}
{%- if level >= 3 %}
From level 3, every application a test starts logs its predictions and labels in the test's own
directory and serves no challenger unless the test gives it one.
{% endif %}"""

from __future__ import annotations

import os
{%- if level >= 2 %}
import shutil
from collections.abc import Callable
from dataclasses import replace
{%- endif %}
from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }} import train
{%- if level >= 2 %}
from {{ package_name }}.config import EstimatorConfig, TrainConfig, load_config
{%- endif %}
from {{ package_name }}.data.ingest import IngestConfig, ingest
{%- if level >= 2 %}
from {{ package_name }}.pipeline import TrainingResult, run
from {{ package_name }}.tracking import configure
{%- endif %}


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The bundled data set, gathered by the real ingest step into a temporary directory."""
    output = tmp_path_factory.mktemp("raw") / "dataset.csv"
    ingest(IngestConfig(output=output))
    return pd.read_csv(output)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory, dataset: pd.DataFrame) -> Path:
    """The model file under test: `MODEL_PATH` if set (say, the one `make train` wrote), else one
    trained here by the real training code."""
    configured = os.environ.get("MODEL_PATH")
    if configured:
        path = Path(configured)
        assert path.is_file(), f"MODEL_PATH={configured} does not exist: run `make train` first"
        return path
    path = tmp_path_factory.mktemp("models") / "model.joblib"
    train.train(dataset, path)
    return path


@pytest.fixture
def sample_rows(dataset: pd.DataFrame) -> list[dict[str, float]]:
    """A few rows of features as the API receives them."""
    return dataset.drop(columns=["target"]).head(5).to_dict(orient="records")
{%- if level >= 3 %}


@pytest.fixture(autouse=True)
def serving_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the applications of this test log (never logs/), with no challenger by default."""
    directory = tmp_path / "logs"
    monkeypatch.setenv("PREDICTION_LOG", str(directory / "predictions.jsonl"))
    monkeypatch.setenv("FEEDBACK_LOG", str(directory / "feedback.jsonl"))
    monkeypatch.setenv("CHALLENGER_URI", "")
    return directory


@pytest.fixture(scope="session")
def challenger_path(tmp_path_factory: pytest.TempPathFactory, dataset: pd.DataFrame) -> Path:
    """A second model file, trained on another split: a challenger to the model under test."""
    path = tmp_path_factory.mktemp("challenger") / "model.joblib"
    train.train(dataset, path, seed=7)
    return path
{%- endif %}
{%- if level >= 2 %}


PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def train_config() -> TrainConfig:
    """The project's own configs/train.yaml: the tests train what `make train` trains."""
    return load_config(PROJECT_ROOT / "configs" / "train.yaml")


@pytest.fixture
def worse_config(train_config: TrainConfig) -> TrainConfig:
    """A model that ignores the features and always predicts the {% if is_classification %}most frequent class{% else %}mean{% endif %}."""
    dummy = "sklearn.dummy.{% if is_classification %}DummyClassifier{% else %}DummyRegressor{% endif %}"
    return replace(train_config, estimator=EstimatorConfig(dummy, {}, scale=False))


@pytest.fixture(scope="session")
def empty_tracking_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its tables created. Creating them takes seconds, so it is done
    once; each test that tracks gets a copy."""
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    configure(f"sqlite:///{path}").search_experiments()
    return path


def use_copy_of(database: Path, directory: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Copies `database` into `directory` and points MLFLOW_TRACKING_URI at the copy."""
    copy = directory / "mlflow.db"
    shutil.copyfile(database, copy)
    uri = f"sqlite:///{copy}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def tracking_uri(
    tmp_path: Path, empty_tracking_database: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty tracking store of this test's own, in `tmp_path`; also MLFLOW_TRACKING_URI."""
    return use_copy_of(empty_tracking_database, tmp_path, monkeypatch)


@pytest.fixture
def train_candidate(
    tmp_path: Path, tracking_uri: str, train_config: TrainConfig
) -> Callable[..., TrainingResult]:
    """Runs the real pipeline into this test's store: `train_candidate(config)`."""

    def train_candidate(
        config: TrainConfig | None = None, ingest_config: IngestConfig | None = None
    ) -> TrainingResult:
        return run(
            config or train_config,
            ingest_config or IngestConfig(output=tmp_path / "raw" / "dataset.csv"),
            tracking_uri=tracking_uri,
            model_file=tmp_path / "models" / "model.joblib",
            reports=tmp_path / "reports",
        )

    return train_candidate


@pytest.fixture(scope="session")
def trained_store(
    tmp_path_factory: pytest.TempPathFactory,
    empty_tracking_database: Path,
    train_config: TrainConfig,
) -> Path:
    """A database in which the pipeline registered version 1, the candidate: trained once."""
    directory = tmp_path_factory.mktemp("trained")
    database = directory / "mlflow.db"
    shutil.copyfile(empty_tracking_database, database)
    run(
        train_config,
        IngestConfig(output=directory / "raw" / "dataset.csv"),
        tracking_uri=f"sqlite:///{database}",
        model_file=directory / "model.joblib",
        reports=None,
    )
    return database


@pytest.fixture
def trained_tracking_uri(
    tmp_path: Path, trained_store: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A copy of `trained_store` of this test's own, to change as it likes; also
    MLFLOW_TRACKING_URI. (The copy shares the artifacts, which nothing changes.)"""
    return use_copy_of(trained_store, tmp_path, monkeypatch)
{%- endif %}
