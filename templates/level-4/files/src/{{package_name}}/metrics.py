"""Post-deployment metrics: what the application tells Prometheus on `GET /metrics`.

Every application has a registry of its own (so tests can start several). The name of each metric
starts with the package's, `{{ package_name }}_`:

- `requests_total{method, path, status}`: the requests answered, by route;
- `request_errors_total{method, path, status}`: those answered with a status of 400 or more (500
  for an exception);
- `request_latency_seconds{method, path}`: a histogram of response times;
{%- if is_classification %}
- `predictions_total{variant, model_version, label}`: the classes predicted, and
  `prediction_probability{variant, model_version}`: a histogram of the probabilities of class 1,
  the distribution of what the model says;
{%- else %}
- `predictions_total{variant, model_version}`: the rows predicted, and
  `prediction_value{variant, model_version}`: a histogram of the predicted values, the
  distribution of what the model says (`PREDICTION_BUCKETS` sets its buckets to the target's
  scale);
{%- endif %}
- `model_info{variant, model_version, model_sha256, source}`: 1 for each model served, so a
  dashboard shows which version answers, and when a swap changed it;
- `model_reloads_total{outcome}`: reloads that `swapped` the model, found it `unchanged` or
  `failed`.

Paths are the routes' templates, not the URLs asked for, so unknown URLs cannot multiply series.

A server of several worker processes (server.py) sets `PROMETHEUS_MULTIPROC_DIR`: each worker then
counts in files of its own there, and `GET /metrics` adds up every worker's counts, so a scrape
answers for the whole server whichever worker takes it. `model_info` is then the value a worker
set last: a model swapped out stays listed, at 0.

`RequestMetrics` is a plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, which
runs every request through a task and memory streams of its own: that cost a tenth of a small
prediction's time. The series a prediction adds to are looked up once per label set and kept.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .score import LoadedModel, Predictions

NAMESPACE = "{{ package_name }}"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
{%- if is_classification %}
PROBABILITY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
{%- else %}
PREDICTION_BUCKETS_ENV = "PREDICTION_BUCKETS"
PREDICTION_BUCKETS = (25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0)
{%- endif %}
UNMATCHED = "unmatched"
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def route_path(scope: Scope) -> str:
    """The template of the route that answered, such as `/predict`."""
    route = scope.get("route")
    return str(getattr(route, "path", UNMATCHED))
{%- if not is_classification %}


def prediction_buckets(environ: dict[str, str] | None = None) -> tuple[float, ...]:
    """`PREDICTION_BUCKETS` (comma-separated upper bounds) if set, else the defaults."""
    text = (environ if environ is not None else os.environ).get(PREDICTION_BUCKETS_ENV, "")
    if not text.strip():
        return PREDICTION_BUCKETS
    return tuple(sorted(float(value) for value in text.split(",") if value.strip()))
{%- endif %}


class ServiceMetrics:
    """The application's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_DIR_ENV) or None
        common = {"namespace": NAMESPACE, "registry": self.registry}
        self.requests = Counter(
            "requests", "Requests answered.", ["method", "path", "status"], **common
        )
        self.errors = Counter(
            "request_errors",
            "Requests answered with a status of 400 or more.",
            ["method", "path", "status"],
            **common,
        )
        self.latency = Histogram(
            "request_latency_seconds",
            "Time to answer a request.",
            ["method", "path"],
            buckets=LATENCY_BUCKETS,
            **common,
        )
{%- if is_classification %}
        self.predictions = Counter(
            "predictions",
            "Rows predicted, by predicted class.",
            ["variant", "model_version", "label"],
            **common,
        )
        self.distribution = Histogram(
            "prediction_probability",
            "Predicted probability of class 1.",
            ["variant", "model_version"],
            buckets=PROBABILITY_BUCKETS,
            **common,
        )
{%- else %}
        self.predictions = Counter(
            "predictions", "Rows predicted.", ["variant", "model_version"], **common
        )
        self.distribution = Histogram(
            "prediction_value",
            "Predicted values.",
            ["variant", "model_version"],
            buckets=prediction_buckets(),
            **common,
        )
{%- endif %}
        self.model_info = Gauge(
            "model_info",
            "1 for each model served.",
            ["variant", "model_version", "model_sha256", "source"],
            multiprocess_mode="mostrecent",
            **common,
        )
        self.reloads = Counter("model_reloads", "Model reloads, by outcome.", ["outcome"], **common)
        self._series: dict[tuple[Any, ...], Any] = {}
        self._served: set[tuple[str, str, str, str]] = set()

    def _child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, looked up once: the label sets are few and long-lived."""
        key = (id(metric), *labels)
        child = self._series.get(key)
        if child is None:
            child = self._series[key] = metric.labels(*labels)
        return child

    def observe_request(self, scope: Scope, status: int, seconds: float) -> None:
        method, path, code = scope["method"], route_path(scope), str(status)
        self._child(self.requests, method, path, code).inc()
        self._child(self.latency, method, path).observe(seconds)
        if status >= 400:
            self._child(self.errors, method, path, code).inc()

    def observe_predictions(
        self, variant: str, model_version: str | None, scored: Predictions
    ) -> None:
        version = model_version or "unversioned"
        distribution = self._child(self.distribution, variant, version)
{%- if is_classification %}
        for label, probability in zip(scored.predictions, scored.probabilities, strict=True):
            self._child(self.predictions, variant, version, str(label)).inc()
            distribution.observe(probability)
{%- else %}
        self._child(self.predictions, variant, version).inc(len(scored.predictions))
        for value in scored.predictions:
            distribution.observe(value)
{%- endif %}

    def serving(self, models: dict[str, LoadedModel | None]) -> None:
        """Records the models served now, by variant, replacing what was recorded before."""
        served = {
            (variant, model.version or "unversioned", model.sha256, model.source)
            for variant, model in models.items()
            if model is not None
        }
        if self.multiprocess_dir:
            # Other workers' files keep a series: set it to 0 rather than remove it.
            for labels in self._served - served:
                self.model_info.labels(*labels).set(0)
        else:
            self.model_info.clear()
        for labels in served:
            self.model_info.labels(*labels).set(1)
        self._served = served

    def response(self) -> Response:
        registry = self.registry
        if self.multiprocess_dir:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """An ASGI middleware timing and counting every HTTP request, to its last byte. A request
    whose handler raised counts as the 500 that the server answers."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self.metrics.observe_request(scope, status, time.perf_counter() - started)
