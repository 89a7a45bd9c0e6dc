{# Level 4: compute is tracked: a Meter of wall time, CPU time, peak memory and estimated cost. #}

{% block docstring %}

From level 4, every training run also records what it used (`Meter`): its wall time, its CPU
time, the peak memory of the process and an estimated cost, the wall time at the `cost_per_hour`
of configs/compute.yaml.
{%- endblock %}

{% block imports_after_platform %}
import resource
import sys
import time
{%- endblock %}

{% block keys %}
KEYS = {"runner", "timeout_minutes", "cost_per_hour"}
{%- endblock %}

{% block config_fields %}
    cost_per_hour: float = 0.0
{%- endblock %}

{% block load_config_result %}
    cost = raw.get("cost_per_hour", defaults.cost_per_hour)
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise ValueError(f"{path}: `cost_per_hour` must be a number >= 0, not {cost!r}")
    return ComputeConfig(runner=runner, timeout_minutes=timeout, cost_per_hour=float(cost))
{%- endblock %}

{% block metering %}


@dataclass(frozen=True)
class Usage:
    """What a stretch of work used: wall and CPU seconds, and the process's peak memory."""

    wall_seconds: float
    cpu_seconds: float
    peak_memory_mb: float

    def cost(self, cost_per_hour: float) -> float:
        """The estimated cost: the wall time at the runner's hourly price."""
        return self.wall_seconds / 3600 * cost_per_hour

    def as_metrics(self, cost_per_hour: float) -> dict[str, float]:
        """MLflow metrics of a training run."""
        return {
            "compute.wall_seconds": round(self.wall_seconds, 3),
            "compute.cpu_seconds": round(self.cpu_seconds, 3),
            "compute.peak_memory_mb": round(self.peak_memory_mb, 1),
            "compute.estimated_cost": round(self.cost(cost_per_hour), 6),
        }

    def log(self, cost_per_hour: float) -> dict[str, float]:
        """Logs the usage to the active MLflow run, as `compute.*` metrics, and returns them."""
        import mlflow  # here, not at the top: the workflow runs this module before installing

        metrics = self.as_metrics(cost_per_hour)
        mlflow.log_metrics(metrics)
        return metrics


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


class Meter:
    """Measures from its creation to each `usage()`: `meter = Meter()`, work, `meter.usage()`."""

    def __init__(self) -> None:
        self.wall_started = time.perf_counter()
        self.cpu_started = time.process_time()

    def usage(self) -> Usage:
        return Usage(
            wall_seconds=time.perf_counter() - self.wall_started,
            cpu_seconds=time.process_time() - self.cpu_started,
            peak_memory_mb=peak_memory_mb(),
        )
{%- endblock %}
