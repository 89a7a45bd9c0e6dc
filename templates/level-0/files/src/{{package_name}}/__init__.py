"""{{ description }}"""
{% if level >= 2 %}
import os

# MLflow reports anonymous usage data unless told not to. The project opts out before any of its
# modules imports mlflow; set MLFLOW_DISABLE_TELEMETRY=false to opt in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
{% endif %}
__version__ = "0.1.0"
