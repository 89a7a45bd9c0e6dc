{# Level 3: A/B serving of a champion and a challenger, the prediction log and /feedback. #}

{% block docstring %}{{ super() }}

It serves a challenger next to the champion (A/B, configs/serving.yaml): each request goes to one
of them, the same `key` always to the same one, and every prediction is logged with its variant,
model version and latency. `POST /feedback` takes the true labels of logged predictions, which
`make ab-report` compares per variant: with the bearer token of `FEEDBACK_TOKEN`, or without one
when the application listens on loopback only (access.py).
{%- endblock %}

{% block imports_before_collections %}
import time
{%- endblock %}

{% block package_modules %}, access{{ super() }}, serving{% endblock %}

{% block package_imports %}
from .prediction_log import FeedbackLog, PredictionLog
{{- super() }}
{%- endblock %}

{% block predict_request_fields %}
    key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who the request is for, a user id say: the same key always gets the same "
        "model variant. Without one, the variant is chosen at random.",
    )
{%- endblock %}

{% block predict_response_fields %}
    model_version: str | None = Field(description="The registered version that answered.")
    variant: str = Field(description="`champion` or `challenger`: the variant that answered.")
    prediction_ids: list[str] = Field(
        description="The id of each row's prediction in the log: post its label to /feedback."
    )
{%- endblock %}

{% block classes_after_health %}


class VariantInfo(BaseModel):
    name: str
    model_source: str
    model_version: str | None
    model_sha256: str
    share: float = Field(description="The share of the traffic it gets.")
{%- endblock %}

{% block version_fields %}{{ super() }}
    variants: list[VariantInfo] = []
{%- endblock %}

{% block classes_after_version %}


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
{%- endblock %}

{% block variants_function %}


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
{%- endblock %}

{% block lifespan_setup %}
        config = serving.load_config()
        app.state.challenger = serving.load_challenger(config.challenger, app.state.model)
        share = config.challenger_share if app.state.challenger else 0.0
        app.state.router = serving.Router(share, config.salt)
        app.state.prediction_log = PredictionLog(config.prediction_log)
        app.state.feedback_log = FeedbackLog(config.feedback_log)
{%- endblock %}

{% block version_response_fields %}{{ super() }}
            variants=variants(request.app),
{%- endblock %}

{% block predict_assignment %}
        started = time.perf_counter()
{%- block assign_variant %}
        assignment = request.app.state.router.assign(body.key)
        if assignment.variant == serving.CHALLENGER:
            model = request.app.state.challenger
{%- endblock %}
{%- endblock %}

{% block log_prediction %}
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
{%- endblock %}

{% block predict_response_values %}
            model_version=model.version,
            variant=assignment.variant,
            prediction_ids=prediction_ids,
{%- endblock %}

{% block routes_after_predict %}

    @app.post(
        "/feedback",
        response_model=FeedbackResponse,
        dependencies=[access.guard(access.FEEDBACK_TOKEN_ENV)],
    )
    def feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
        labels = [(label.prediction_id, label.label) for label in body.labels]
        return FeedbackResponse(received=request.app.state.feedback_log.record(labels))
{%- endblock %}
