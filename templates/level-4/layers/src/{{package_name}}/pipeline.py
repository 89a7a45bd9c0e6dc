{# Level 4: each run records the training reference of monitoring and the compute it used. #}

{% block docstring %}

From level 4 a retrain learns from production's labelled rows too (training_data.py, `production`
of configs/train.yaml): the snapshots within the window are added to the reference training rows,
the most recent of their rows are held out and logged (evaluation/recent.csv) for the gate, and
the run records which snapshots it used, with their ids and digests (data/lineage.json).

A run also records the training reference that monitoring compares production with
(reference.py: `monitoring/reference.json` of the run, and reports/training/reference.json), and
the compute it used: wall time, CPU time, peak memory and an estimated cost (`compute.*` metrics,
at the `cost_per_hour` of configs/compute.yaml).
{%- endblock %}

{% block modules_before_registry %}reference, {% endblock %}

{% block modules_after_tracking %}, training_data{% endblock %}

{% block training_result_fields %}
    compute: dict[str, float] | None = None
    snapshots: list[str] | None = None
    recent_metrics: dict[str, float] | None = None
{%- endblock %}

{% block after_split %}
    production = training_data.gather(config, data.train, data.test)
    data = Split(training_data.training_rows(data.train, production), data.test)
    print(f"train: {len(data.train)} rows, {len(production.train)} of them from production")
{%- endblock %}

{% block after_config %}
        tags.update(training_data.log(production, data_sha256, len(frame)))
{%- endblock %}

{% block after_evaluate %}
        recent_metrics = None
        if not production.recent.empty:
            recent_features, recent_target = features_and_target(production.recent, config)
            recent_metrics = evaluate(model, recent_features, recent_target)
            mlflow.log_metrics({f"recent.{name}": value for name, value in recent_metrics.items()})
            scores = ", ".join(f"{name} {value:.4f}" for name, value in recent_metrics.items())
            print(f"evaluate on the {len(production.recent)} most recent production rows: {scores}")
{%- endblock %}

{% block log_test_sets %}
            if not production.recent.empty:
                recent_path = Path(directory) / Path(training_data.RECENT_SET_ARTIFACT).name
                production.recent.to_csv(recent_path, index=False)
                folder = Path(training_data.RECENT_SET_ARTIFACT).parent.as_posix()
                mlflow.log_artifact(str(recent_path), folder)
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
    result = TrainingResult(
        run_id,
        version.version,
        metrics,
        data_sha256,
        used,
        production.snapshot_ids,
        recent_metrics,
    )
{%- endblock %}

{% block save_reports %}
        reference.save(profile, reports / "reference.json")
{%- endblock %}
