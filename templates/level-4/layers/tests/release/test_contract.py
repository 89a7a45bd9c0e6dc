{# Level 4: the service also answers /ready and /metrics. #}

{% block tests_after_health %}


def test_ready_names_the_model_it_serves(service: Service, version: dict[str, Any]) -> None:
    response = service.get("/ready")
    assert response.status == 200, response.body
    assert response.body["ready"] is True
    assert response.body["model_sha256"] == version["model_sha256"]
    assert response.body["model_version"] == version["model_version"]


def test_metrics_are_exposed_for_prometheus(service: Service) -> None:
    service.get("/version")
    response = service.get("/metrics")
    assert response.status == 200
    assert isinstance(response.body, str), "Prometheus' text format, not JSON"
    lines = response.body.splitlines()
    assert any("_requests_total{" in line and 'path="/version"' in line for line in lines)
    assert any("_model_info{" in line and 'variant="champion"' in line for line in lines)
{%- endblock %}
