{# Level 2: the package turns MLflow's telemetry off before any module imports mlflow. #}

{% block telemetry %}
import os

# MLflow reports anonymous usage data unless told not to. The project opts out before any of its
# modules imports mlflow; set MLFLOW_DISABLE_TELEMETRY=false to opt in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
{% endblock %}
