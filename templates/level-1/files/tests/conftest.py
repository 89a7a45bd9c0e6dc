"""Shared fixtures: a data set gathered into a temporary directory, and a trained model file.
{%- block docstring %}{% endblock %}"""

from __future__ import annotations

import os
{%- block imports_after_os %}{% endblock %}
from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }} import train
{%- block imports_after_train %}{% endblock %}
from {{ package_name }}.data.ingest import IngestConfig, ingest
{%- block imports_after_ingest %}{% endblock %}


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
{%- block serving_fixtures %}{% endblock %}
{%- block training_fixtures %}{% endblock %}
