{# Level 2: the model loads through the scoring module, from a file or from the registry. #}

{% block docstring %}

Set `MODEL_URI` to serve a registered version instead, such as
`models:/{{ package_name }}@champion`
(with `MLFLOW_TRACKING_URI` if the registry is not the local `mlflow.db`). Loading and predicting
go through the scoring module, score.py, which batch scoring shares.
{%- endblock %}

{% block imports_before_os %}{% endblock %}

{% block imports_from_dataclasses %}{% endblock %}

{% block imports_before_pandas %}{% endblock %}

{% block package_modules %}, score{% endblock %}

{% block package_imports %}
from .score import LoadedModel
{%- endblock %}

{% block environment_variables %}
MODEL_URI_ENV = "MODEL_URI"
{%- endblock %}

{% block version_fields %}
    model_version: str | None = None
{%- endblock %}

{% block load_model %}{% endblock %}

{% block model_source_from_env %}


def model_source_from_env() -> str | Path:
    """`MODEL_URI` (a registered version) if it is set, else `MODEL_PATH` (a model file)."""
    return os.environ.get(MODEL_URI_ENV) or model_path_from_env()
{%- endblock %}

{% block lifespan_load %}
        source = model_path or model_source_from_env()
        app.state.model = score.load_available_model(source)
        app.state.model_path = source
{%- endblock %}

{% block version_response_fields %}
            model_version=model.version if model else None,
{%- endblock %}

{% block predict_body %}
        scored = score.predict(model, frame)
{%- block log_prediction %}{% endblock %}
{%- block observe_predictions %}{% endblock %}
        return PredictResponse(
            predictions=scored.predictions,
{%- if is_classification %}
            probabilities=scored.probabilities,
{%- endif %}
            model_sha256=model.sha256,
{%- block predict_response_values %}{% endblock %}
        )
{%- block routes_after_predict %}{% endblock %}
{%- endblock %}
