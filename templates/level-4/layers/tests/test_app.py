{# Level 4: without a model the process is alive (/health) but not ready (/ready). #}

{% block without_a_model %}
        assert client.get("/ready").status_code == 503
        assert client.get("/health").json() == {"status": "ok", "model_loaded": False}
{%- endblock %}
