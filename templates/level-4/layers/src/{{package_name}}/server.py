{# Level 4: the workers of a server count their metrics in files that /metrics adds up. #}

{% block docstring %}

Each worker counts its Prometheus metrics in files of its own in that directory
(`PROMETHEUS_MULTIPROC_DIR`), which `GET /metrics` adds up: a scrape answers for the whole server,
whichever worker takes it (metrics.py).
{%- endblock %}

{% block worker_environment %}
        metrics_dir = Path(run_dir) / "metrics"
        metrics_dir.mkdir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
{%- endblock %}
