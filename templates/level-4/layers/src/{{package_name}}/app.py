{# Level 4: Prometheus metrics, readiness apart from liveness, and zero-downtime model swaps. #}

{% block docstring %}{{ super() }}

It is observable and swaps models without downtime: `GET /metrics` answers Prometheus (metrics.py);
`GET /health` is liveness (the process answers) and `GET /ready` readiness (a model serves);
`POST /admin/reload` loads the configured models again and swaps them in atomically once they pass
the readiness check, requests in flight finishing on the old ones (swap.py). A reload needs the
bearer token of `RELOAD_TOKEN`, or an application that listens on loopback only (access.py); with
`MODEL_RELOAD_SECONDS`, the application reloads by itself when the champion alias moves.
{%- endblock %}

{% block imports_from_dataclasses %}
from dataclasses import asdict
{%- endblock %}

{% block fastapi_responses %}, Response{% endblock %}

{% block package_modules %}{{ super() }}, swap{% endblock %}

{% block package_imports %}
from .metrics import ServiceMetrics
{{- super() }}
{%- endblock %}

{% block environment_variables %}{{ super() }}
RELOAD_TOKEN_ENV = "RELOAD_TOKEN"
{%- endblock %}

{% block classes_after_version %}{{ super() }}


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
{%- endblock %}

{% block lifespan_setup %}{{ super() }}
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
{%- endblock %}

{% block lifespan_shutdown %}
        await swap.stop_watcher(watcher)
{%- endblock %}

{% block app_middleware %}
    app.state.metrics = ServiceMetrics()
    app.middleware("http")(app.state.metrics.middleware())
{%- endblock %}

{% block loaded %}

    def loaded(served: swap.Served) -> LoadedModel:
        if served.model is None:
            raise HTTPException(status_code=503, detail=f"no model at {served.source}")
        return served.model
{%- endblock %}

{% block health_without_model %}
            # Liveness: the process answers. Whether it can serve is for /ready to say.
            return Health(status="ok", model_loaded=False)
{%- endblock %}

{% block routes_after_health %}

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

    @app.post(
        "/admin/reload",
        response_model=ReloadResponse,
        dependencies=[access.guard(RELOAD_TOKEN_ENV)],
    )
    def reload(request: Request) -> Any:
        """Loads the configured models again and swaps them in once ready; 500 if they cannot
        be, the old models serving on."""
        result = ReloadResponse(**asdict(request.app.state.served.reload()))
        if result.outcome == swap.FAILED:
            return JSONResponse(status_code=500, content=result.model_dump())
        return result

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """The Prometheus metrics of this process."""
        return request.app.state.metrics.response()
{%- endblock %}

{% block predict_model %}
        # One snapshot of what serves, for the whole request: a model swapped in meanwhile answers
        # the next request, never part of this one.
        served = request.app.state.served.current
        model = loaded(served)
{%- endblock %}

{% block assign_variant %}
        assignment = served.router.assign(body.key)
        if assignment.variant == serving.CHALLENGER:
            model = served.challenger
{%- endblock %}

{% block observe_predictions %}
        request.app.state.metrics.observe_predictions(assignment.variant, model.version, scored)
{%- endblock %}
