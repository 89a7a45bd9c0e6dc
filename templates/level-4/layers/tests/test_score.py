{# Level 4: readiness, not liveness, says that no model serves. #}

{% block not_ready %}
        assert client.get("/ready").status_code == 503
{%- endblock %}
