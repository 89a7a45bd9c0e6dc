{# Level 4: each run records the training reference of monitoring and the compute it used. #}

{% block docstring %}

From level 4 a run also records the training reference that monitoring compares production with
(reference.py: `monitoring/reference.json` of the run, and reports/training/reference.json), and
the compute it used: wall time, CPU time, peak memory and an estimated cost (`compute.*` metrics,
at the `cost_per_hour` of configs/compute.yaml).
{%- endblock %}

{% block modules_before_registry %}reference, {% endblock %}

{% block training_result_fields %}
    compute: dict[str, float] | None = None
{%- endblock %}

{% block before_ingest %}
    meter = compute.Meter()
{%- endblock %}

{% block after_register %}
        train_features = features_and_target(data.train, config)[0]
        profile = reference.build(train_features, model.predict(train_features), seed=config.seed)
        mlflow.log_dict(profile, reference.ARTIFACT)
        compute_config = compute.load_config() if compute.DEFAULT_CONFIG.exists() else None
        cost_per_hour = compute_config.cost_per_hour if compute_config else 0.0
        used = meter.usage().log(cost_per_hour)
{%- endblock %}

{% block result %}
    spent = ", ".join(f"{name.removeprefix('compute.')} {value:g}" for name, value in used.items())
    print(f"compute: {spent}")
    result = TrainingResult(run_id, version.version, metrics, data_sha256, used)
{%- endblock %}

{% block save_reports %}
        reference.save(profile, reports / "reference.json")
{%- endblock %}
