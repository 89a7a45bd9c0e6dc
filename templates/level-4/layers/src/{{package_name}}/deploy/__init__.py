{# Level 4: a deployment is up when /ready says a model serves, not when /health answers. #}

{% block probe_request %}
    # Liveness says the process answers; readiness, that a model serves.
    health, _ = get_json(f"{url}/ready")
{%- endblock %}

{% block probe_in_detail %}ready{% endblock %}

{% block probe_in_docstring %}ready{% endblock %}

{% block probe_polled %}ready{% endblock %}
