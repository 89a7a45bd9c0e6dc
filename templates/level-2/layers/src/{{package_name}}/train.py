{# Level 2: the model is built from configs/train.yaml, here, where the pipeline builds it too. #}

{% block docstring %}

From level 2, `make train` runs the tracked pipeline (pipeline.py) instead. What the model is
comes from configs/train.yaml (`estimator`), and `build_model` here is the one place that builds
it: the pipeline (and so model CI and the release), the tests, and
`python -m {{ package_name }}.train`, a quick way to an untracked model
file, all train what it builds. The pipeline and the gate reuse `evaluate` from here too.
{%- endblock %}

{% block imports_after_argparse %}
import importlib
import inspect
{%- endblock %}

{% block estimator_import %}{% endblock %}

{% block package_imports %}
from .config import ConfigError, EstimatorConfig, load_config
{{- super() }}
{%- endblock %}

{% block build_model %}
def build_model(seed: int = SEED, estimator: EstimatorConfig | None = None) -> Pipeline:
    """The model to fit: the estimator of configs/train.yaml (or `estimator`) by its import
    path and parameters, after a scaler if `scale`; `random_state` defaults to `seed`. Change
    the model in the configuration, or its code here: every way of training builds it here."""
    estimator = estimator or load_config().estimator
    module_name, _, class_name = estimator.class_path.rpartition(".")
    try:
        estimator_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        message = f"`estimator.class`: cannot import {estimator.class_path}: {error}"
        raise ConfigError(message) from None
    params = dict(estimator.params)
    if "random_state" in inspect.signature(estimator_class).parameters:
        params.setdefault("random_state", seed)
    try:
        model = estimator_class(**params)
    except TypeError as error:
        raise ConfigError(f"`estimator.params`: {error}") from None
    return make_pipeline(StandardScaler(), model) if estimator.scale else make_pipeline(model)
{%- endblock %}
