"""The application: an HTTP API serving the model file.

`GET /health` says whether a model is loaded, `GET /version` which one, and `POST /predict`
scores rows of features. The model file comes from `MODEL_PATH` (default `models/model.joblib`);
run it with `make serve`, or `uvicorn {{ package_name }}.app:app`.
{%- if level >= 2 %}

Set `MODEL_URI` to serve a registered version instead, such as
`models:/{{ package_name }}@champion`
(with `MLFLOW_TRACKING_URI` if the registry is not the local `mlflow.db`). Loading and predicting
go through the scoring module, score.py, which batch scoring shares.
{%- endif %}
{%- if level >= 3 %}

It serves a challenger next to the champion (A/B, configs/serving.yaml): each request goes to one
of them, the same `key` always to the same one, and every prediction is logged with its variant,
model version and latency. `POST /feedback` takes the true labels of logged predictions, which
`make ab-report` compares per variant.
{%- endif %}
{%- if level >= 4 %}

It is observable and swaps models without downtime: `GET /metrics` answers Prometheus (metrics.py);
`GET /health` is liveness (the process answers) and `GET /ready` readiness (a model serves);
`POST /admin/reload` loads the configured models again and swaps them in atomically once they pass
the readiness check, requests in flight finishing on the old ones (swap.py). With `RELOAD_TOKEN`
set, a reload needs `Authorization: Bearer <token>`; with `MODEL_RELOAD_SECONDS`, the application
reloads by itself when the champion alias moves.
{%- endif %}
"""

from __future__ import annotations
{% if level < 2 %}
import hashlib
{%- endif %}
{%- if level >= 4 %}
import hmac
{%- endif %}
import os
{%- if level >= 3 %}
import time
{%- endif %}
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
{%- if level < 2 %}
from dataclasses import dataclass
{%- endif %}
{%- if level >= 4 %}
from dataclasses import asdict
{%- endif %}
from pathlib import Path
from typing import Any
{% if level < 2 %}
import joblib
{%- endif %}
import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse{% if level >= 4 %}, Response{% endif %}
from pydantic import BaseModel, Field

from . import __version__{% if level >= 2 %}, score{% endif %}{% if level >= 3 %}, serving{% endif %}{% if level >= 4 %}, swap{% endif %}
{%- if level >= 4 %}
from .metrics import ServiceMetrics
{%- endif %}
{%- if level >= 3 %}
from .prediction_log import FeedbackLog, PredictionLog
{%- endif %}
{%- if level >= 2 %}
from .score import LoadedModel
{%- endif %}

MODEL_PATH_ENV = "MODEL_PATH"
{%- if level >= 2 %}
MODEL_URI_ENV = "MODEL_URI"
{%- endif %}
{%- if level >= 4 %}
RELOAD_TOKEN_ENV = "RELOAD_TOKEN"
{%- endif %}
DEFAULT_MODEL_PATH = Path("models/model.joblib")
MAX_ROWS = 1000


class PredictRequest(BaseModel):
    rows: list[dict[str, float]] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description="Rows to score, each mapping every feature name to its value.",
    )
{%- if level >= 3 %}
    key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who the request is for, a user id say: the same key always gets the same "
        "model variant. Without one, the variant is chosen at random.",
    )
{%- endif %}


class PredictResponse(BaseModel):
{%- if is_classification %}
    predictions: list[int] = Field(description="The predicted class of each row.")
    probabilities: list[float] = Field(description="The probability of class 1 for each row.")
{%- else %}
    predictions: list[float] = Field(description="The predicted value of each row.")
{%- endif %}
    model_sha256: str = Field(description="SHA-256 of the model file that answered.")
{%- if level >= 3 %}
    model_version: str | None = Field(description="The registered version that answered.")
    variant: str = Field(description="`champion` or `challenger`: the variant that answered.")
    prediction_ids: list[str] = Field(
        description="The id of each row's prediction in the log: post its label to /feedback."
    )
{%- endif %}


class Health(BaseModel):
    status: str
    model_loaded: bool
{%- if level >= 3 %}


class VariantInfo(BaseModel):
    name: str
    model_source: str
    model_version: str | None
    model_sha256: str
    share: float = Field(description="The share of the traffic it gets.")
{%- endif %}


class Version(BaseModel):
    app_version: str
    model_path: str
    model_sha256: str | None
    features: list[str]
{%- if level >= 2 %}
    model_version: str | None = None
{%- endif %}
{%- if level >= 3 %}
    variants: list[VariantInfo] = []


class Label(BaseModel):
    prediction_id: str = Field(
        min_length=1, max_length=64, description="The id /predict returned for the row."
    )
{%- if is_classification %}
    label: int = Field(ge=0, le=1, description="The true class of the row.")
{%- else %}
    label: float = Field(allow_inf_nan=False, description="The true value of the row.")
{%- endif %}


class FeedbackRequest(BaseModel):
    labels: list[Label] = Field(min_length=1, max_length=MAX_ROWS)


class FeedbackResponse(BaseModel):
    received: int
{%- endif %}
{%- if level >= 4 %}


class Readiness(BaseModel):
    ready: bool
    model_version: str | None
    model_sha256: str | None
    loaded_at: str = Field(description="When the models served were loaded (UTC).")


class ReloadResponse(BaseModel):
    outcome: str = Field(description="`swapped`, `unchanged` or `failed` (the old model serves).")
    model_version: str | None
    model_sha256: str | None
    previous_version: str | None
    detail: str
{%- endif %}

{% if level < 2 %}
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

{% endif %}
def model_path_from_env() -> Path:
    return Path(os.environ.get(MODEL_PATH_ENV, str(DEFAULT_MODEL_PATH)))
{%- if level >= 2 %}


def model_source_from_env() -> str | Path:
    """`MODEL_URI` (a registered version) if it is set, else `MODEL_PATH` (a model file)."""
    return os.environ.get(MODEL_URI_ENV) or model_path_from_env()
{%- endif %}


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
{%- if level >= 3 %}


def variants(app: FastAPI) -> list[VariantInfo]:
    """The models the application serves, with the share of the traffic each gets."""
    share = app.state.router.challenger_share
    served = [
        (serving.CHAMPION, app.state.model, 1.0 - share),
        (serving.CHALLENGER, app.state.challenger, share),
    ]
    return [
        VariantInfo(
            name=name,
            model_source=model.source,
            model_version=model.version,
            model_sha256=model.sha256,
            share=round(traffic, 6),
        )
        for name, model, traffic in served
        if model is not None
    ]
{%- endif %}


def create_app(model_path: Path | None = None) -> FastAPI:
    """The application, loading `model_path` (or `MODEL_PATH`) when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
{%- if level >= 2 %}
        source = model_path or model_source_from_env()
        app.state.model = score.load_available_model(source)
        app.state.model_path = source
{%- else %}
        path = model_path or model_path_from_env()
        app.state.model = load_model(path) if path.exists() else None
        app.state.model_path = path
{%- endif %}
{%- if level >= 3 %}
        config = serving.load_config()
        app.state.challenger = serving.load_challenger(config.challenger, app.state.model)
        share = config.challenger_share if app.state.challenger else 0.0
        app.state.router = serving.Router(share, config.salt)
        app.state.prediction_log = PredictionLog(config.prediction_log)
        app.state.feedback_log = FeedbackLog(config.feedback_log)
{%- endif %}
{%- if level >= 4 %}
        metrics = app.state.metrics

        def swapped(served: swap.Served) -> None:
            """Keeps the attributes above in step with what serves, and the metrics too."""
            app.state.model, app.state.challenger = served.model, served.challenger
            app.state.router = served.router
            metrics.serving({serving.CHAMPION: served.model, serving.CHALLENGER: served.challenger})

        served = swap.Served(
            app.state.model, app.state.challenger, app.state.router, source, swap.now()
        )
        swapped(served)
        app.state.served = swap.ModelSwap(
            served,
            loader=lambda: swap.load(source),
            on_swap=swapped,
            on_reload=lambda result: metrics.reloads.labels(result.outcome).inc(),
        )
        watcher = swap.start_watcher(app.state.served, swap.reload_interval())
{%- endif %}
        yield
{%- if level >= 4 %}
        await swap.stop_watcher(watcher)
{%- endif %}

    app = FastAPI(title={{ project_name | quoted }}, version=__version__, lifespan=lifespan)
{%- if level >= 4 %}
    app.state.metrics = ServiceMetrics()
    app.middleware("http")(app.state.metrics.middleware())
{%- endif %}
{%- if level >= 4 %}

    def loaded(served: swap.Served) -> LoadedModel:
        if served.model is None:
            raise HTTPException(status_code=503, detail=f"no model at {served.source}")
        return served.model
{%- else %}

    def loaded(request: Request) -> LoadedModel:
        model = request.app.state.model
        if model is None:
            detail = f"no model at {request.app.state.model_path}"
            raise HTTPException(status_code=503, detail=detail)
        return model
{%- endif %}

    @app.get("/health", response_model=Health)
    def health(request: Request) -> Any:
        if request.app.state.model is None:
{%- if level >= 4 %}
            # Liveness: the process answers. Whether it can serve is for /ready to say.
            return Health(status="ok", model_loaded=False)
{%- else %}
            content = {"status": "no model", "model_loaded": False}
            return JSONResponse(status_code=503, content=content)
{%- endif %}
        return Health(status="ok", model_loaded=True)
{%- if level >= 4 %}

    @app.get("/ready", response_model=Readiness)
    def ready(request: Request) -> Any:
        """Readiness: 200 while a model that passed its readiness check serves, else 503."""
        served = request.app.state.served.current
        model = served.model
        readiness = Readiness(
            ready=model is not None,
            model_version=model.version if model else None,
            model_sha256=model.sha256 if model else None,
            loaded_at=served.loaded_at,
        )
        if model is None:
            return JSONResponse(status_code=503, content=readiness.model_dump())
        return readiness

    @app.post("/admin/reload", response_model=ReloadResponse)
    def reload(request: Request) -> Any:
        """Loads the configured models again and swaps them in once ready; 500 if they cannot
        be, the old models serving on."""
        token = os.environ.get(RELOAD_TOKEN_ENV)
        given = request.headers.get("authorization", "")
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(status_code=401, detail="reloading needs the bearer token")
        result = ReloadResponse(**asdict(request.app.state.served.reload()))
        if result.outcome == swap.FAILED:
            return JSONResponse(status_code=500, content=result.model_dump())
        return result

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """The Prometheus metrics of this process."""
        return request.app.state.metrics.response()
{%- endif %}

    @app.get("/version", response_model=Version)
    def version(request: Request) -> Version:
        model = request.app.state.model
        return Version(
            app_version=__version__,
            model_path=str(request.app.state.model_path),
            model_sha256=model.sha256 if model else None,
            features=model.features if model else [],
{%- if level >= 2 %}
            model_version=model.version if model else None,
{%- endif %}
{%- if level >= 3 %}
            variants=variants(request.app),
{%- endif %}
        )

    @app.post("/predict", response_model=PredictResponse)
    def predict(body: PredictRequest, request: Request) -> PredictResponse:
{%- if level >= 4 %}
        # One snapshot of what serves, for the whole request: a model swapped in meanwhile answers
        # the next request, never part of this one.
        served = request.app.state.served.current
        model = loaded(served)
{%- else %}
        model = loaded(request)
{%- endif %}
{%- if level >= 3 %}
        started = time.perf_counter()
{%- if level >= 4 %}
        assignment = served.router.assign(body.key)
        if assignment.variant == serving.CHALLENGER:
            model = served.challenger
{%- else %}
        assignment = request.app.state.router.assign(body.key)
        if assignment.variant == serving.CHALLENGER:
            model = request.app.state.challenger
{%- endif %}
{%- endif %}
        check_schema(body.rows, model.features)
        frame = pd.DataFrame(body.rows, columns=model.features)
{%- if level >= 2 %}
        scored = score.predict(model, frame)
{%- if level >= 3 %}
        prediction_ids = request.app.state.prediction_log.record(
            key=assignment.key,
            variant=assignment.variant,
            model_version=model.version,
            model_sha256=model.sha256,
            rows=body.rows,
            predictions=scored.predictions,
{%- if is_classification %}
            probabilities=scored.probabilities,
{%- endif %}
            latency_ms=(time.perf_counter() - started) * 1000,
        )
{%- endif %}
{%- if level >= 4 %}
        request.app.state.metrics.observe_predictions(assignment.variant, model.version, scored)
{%- endif %}
        return PredictResponse(
            predictions=scored.predictions,
{%- if is_classification %}
            probabilities=scored.probabilities,
{%- endif %}
            model_sha256=model.sha256,
{%- if level >= 3 %}
            model_version=model.version,
            variant=assignment.variant,
            prediction_ids=prediction_ids,
{%- endif %}
        )
{%- if level >= 3 %}

    @app.post("/feedback", response_model=FeedbackResponse)
    def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
        labels = [(label.prediction_id, label.label) for label in body.labels]
        return FeedbackResponse(received=request.app.state.feedback_log.record(labels))
{%- endif %}
{%- elif is_classification %}
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

    return app


app = create_app()
