{# Level 4: a run also records the compute it used and the training reference. #}

{% block tracked_metrics %}
    assert {name: tracked.data.metrics[name] for name in METRICS} == pytest.approx(result.metrics)
    # The compute the run used, and the reference monitoring compares production with.
    assert set(result.compute) == {
        "compute.wall_seconds",
        "compute.cpu_seconds",
        "compute.peak_memory_mb",
        "compute.estimated_cost",
    }
    assert {name: tracked.data.metrics[name] for name in result.compute} == result.compute
    assert result.compute["compute.wall_seconds"] > 0 and result.compute["compute.cpu_seconds"] > 0
    assert result.compute["compute.peak_memory_mb"] > 10
    profile = mlflow.artifacts.load_dict(f"runs:/{result.run_id}/monitoring/reference.json")
    assert list(profile["features"]) == list(train_config.features)
    assert profile == json.loads((tmp_path / "reports" / "reference.json").read_text())
{%- endblock %}
