"""The application: an HTTP API serving the model file.

`GET /health` says whether a model is loaded, `GET /version` which one, and `POST /predict`
scores rows of features. The model file comes from `MODEL_PATH` (default `models/model.joblib`);
run it with `make serve`, or `uvicorn {{ package_name }}.app:app`.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations
{% block imports_before_os %}
import hashlib
{%- endblock %}
import os
{%- block imports_before_collections %}{% endblock %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{%- block imports_from_dataclasses %}
from dataclasses import dataclass
{%- endblock %}
from pathlib import Path
from typing import Any
{% block imports_before_pandas %}
import joblib
{%- endblock %}
import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse{% block fastapi_responses %}{% endblock %}
from pydantic import BaseModel, Field

from . import __version__{% block package_modules %}{% endblock %}
{%- block package_imports %}{% endblock %}

MODEL_PATH_ENV = "MODEL_PATH"
{%- block environment_variables %}{% endblock %}
DEFAULT_MODEL_PATH = Path("models/model.joblib")
MAX_ROWS = 1000


class PredictRequest(BaseModel):
    rows: list[dict[str, float]] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description="Rows to score, each mapping every feature name to its value.",
    )
{%- block predict_request_fields %}{% endblock %}


class PredictResponse(BaseModel):
{%- if is_classification %}
    predictions: list[int] = Field(description="The predicted class of each row.")
    probabilities: list[float] = Field(description="The probability of class 1 for each row.")
{%- else %}
    predictions: list[float] = Field(description="The predicted value of each row.")
{%- endif %}
    model_sha256: str = Field(description="SHA-256 of the model file that answered.")
{%- block predict_response_fields %}{% endblock %}


class Health(BaseModel):
    status: str
    model_loaded: bool
{%- block classes_after_health %}{% endblock %}


class Version(BaseModel):
    app_version: str
    model_path: str
    model_sha256: str | None
    features: list[str]
{%- block version_fields %}{% endblock %}
{%- block classes_after_version %}{% endblock %}

{% block load_model %}
@dataclass(frozen=True)
class LoadedModel:
    path: Path
    model: Any
    sha256: str
    features: list[str]


def load_model(path: Path) -> LoadedModel:
    """Loads a fitted scikit-learn model and the feature names it was trained on."""
    content = path.read_bytes()
    model = joblib.load(path)
    features = [str(name) for name in getattr(model, "feature_names_in_", [])]
    if not features:
        raise ValueError(f"{path}: the model does not record its feature names")
    return LoadedModel(path, model, hashlib.sha256(content).hexdigest(), features)

{% endblock %}
def model_path_from_env() -> Path:
    return Path(os.environ.get(MODEL_PATH_ENV, str(DEFAULT_MODEL_PATH)))
{%- block model_source_from_env %}{% endblock %}


def check_schema(rows: list[dict[str, float]], features: list[str]) -> None:
    """Refuses rows whose features are not exactly the model's, naming the difference."""
    expected = set(features)
    for index, row in enumerate(rows):
        missing = sorted(expected - row.keys())
        unexpected = sorted(row.keys() - expected)
        if missing or unexpected:
            raise HTTPException(
                status_code=422,
                detail={"row": index, "missing": missing, "unexpected": unexpected},
            )
{%- block variants_function %}{% endblock %}


def create_app(model_path: Path | None = None) -> FastAPI:
    """The application, loading `model_path` (or `MODEL_PATH`) when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
{%- block lifespan_load %}
        path = model_path or model_path_from_env()
        app.state.model = load_model(path) if path.exists() else None
        app.state.model_path = path
{%- endblock %}
{%- block lifespan_setup %}{% endblock %}
        yield
{%- block lifespan_shutdown %}{% endblock %}

    app = FastAPI(title={{ project_name | py_str }}, version=__version__, lifespan=lifespan)
{%- block app_middleware %}{% endblock %}
{%- block loaded %}

    def loaded(request: Request) -> LoadedModel:
        model = request.app.state.model
        if model is None:
            detail = f"no model at {request.app.state.model_path}"
            raise HTTPException(status_code=503, detail=detail)
        return model
{%- endblock %}

    @app.get("/health", response_model=Health)
    def health(request: Request) -> Any:
        if request.app.state.model is None:
{%- block health_without_model %}
            content = {"status": "no model", "model_loaded": False}
            return JSONResponse(status_code=503, content=content)
{%- endblock %}
        return Health(status="ok", model_loaded=True)
{%- block routes_after_health %}{% endblock %}

    @app.get("/version", response_model=Version)
    def version(request: Request) -> Version:
        model = request.app.state.model
        return Version(
            app_version=__version__,
            model_path=str(request.app.state.model_path),
            model_sha256=model.sha256 if model else None,
            features=model.features if model else [],
{%- block version_response_fields %}{% endblock %}
        )

    @app.post("/predict", response_model=PredictResponse)
    def predict(body: PredictRequest, request: Request) -> PredictResponse:
{%- block predict_model %}
        model = loaded(request)
{%- endblock %}
{%- block predict_assignment %}{% endblock %}
        check_schema(body.rows, model.features)
{%- block predict_frame %}
        frame = pd.DataFrame(body.rows, columns=model.features)
{%- endblock %}
{%- block predict_body %}
{%- if is_classification %}
        predictions = model.model.predict(frame)
        probabilities = model.model.predict_proba(frame)[:, 1]
        return PredictResponse(
            predictions=[int(value) for value in predictions],
            probabilities=[float(value) for value in probabilities],
            model_sha256=model.sha256,
        )
{%- else %}
        predictions = model.model.predict(frame)
        return PredictResponse(
            predictions=[float(value) for value in predictions],
            model_sha256=model.sha256,
        )
{%- endif %}
{%- endblock %}

    return app


app = create_app()
