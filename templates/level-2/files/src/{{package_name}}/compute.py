"""The compute that training runs on, declared in `configs/compute.yaml`.

The Train workflow asks `python -m {{ package_name }}.compute`
(`make compute-target`) for the runner and timeout of its training job, as GitHub step outputs,
so where training runs is configuration under review rather than whichever machine someone used.
Every training run records the machine it ran on (`describe`) next to its metrics.
{%- if level >= 4 %}

From level 4, every training run also records what it used (`Meter`): its wall time, its CPU
time, the peak memory of the process and an estimated cost, the wall time at the `cost_per_hour`
of configs/compute.yaml.
{%- endif %}

This module needs only PyYAML, so the workflow can run it before installing the project.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
{%- if level >= 4 %}
import resource
import sys
import time
{%- endif %}
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_CONFIG = Path("configs/compute.yaml")
{%- if level >= 4 %}
KEYS = {"runner", "timeout_minutes", "cost_per_hour"}
{%- else %}
KEYS = {"runner", "timeout_minutes"}
{%- endif %}


@dataclass(frozen=True)
class ComputeConfig:
    runner: str | list[str] = "ubuntu-latest"
    timeout_minutes: int = 60
{%- if level >= 4 %}
    cost_per_hour: float = 0.0
{%- endif %}


def load_config(path: Path = DEFAULT_CONFIG) -> ComputeConfig:
    """Reads the compute configuration, refusing unknown keys and values of the wrong kind."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of {sorted(KEYS)}")
    unknown = set(raw) - KEYS
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; known keys are {sorted(KEYS)}")
    defaults = ComputeConfig()
    runner = raw.get("runner", defaults.runner)
    labels_ok = isinstance(runner, list) and runner and all(isinstance(x, str) for x in runner)
    if not (isinstance(runner, str) and runner) and not labels_ok:
        raise ValueError(f"{path}: `runner` must be a runner label or a list of labels")
    timeout = raw.get("timeout_minutes", defaults.timeout_minutes)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"{path}: `timeout_minutes` must be a positive integer, not {timeout!r}")
{%- if level >= 4 %}
    cost = raw.get("cost_per_hour", defaults.cost_per_hour)
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise ValueError(f"{path}: `cost_per_hour` must be a number >= 0, not {cost!r}")
    return ComputeConfig(runner=runner, timeout_minutes=timeout, cost_per_hour=float(cost))
{%- else %}
    return ComputeConfig(runner=runner, timeout_minutes=timeout)
{%- endif %}


def github_outputs(config: ComputeConfig) -> str:
    """`runs-on` (as JSON, for `fromJSON`) and `timeout-minutes`, in GITHUB_OUTPUT's format."""
    return f"runs-on={json.dumps(config.runner)}\ntimeout-minutes={config.timeout_minutes}\n"


def describe() -> dict[str, str]:
    """Where this process runs, as tags for the training run."""
    tags = {
        "compute.host": platform.node() or "unknown",
        "compute.platform": platform.platform(),
        "compute.cpus": str(os.cpu_count() or 0),
        "compute.python": platform.python_version(),
        "compute.runner": os.environ.get("RUNNER_NAME", "local"),
    }
    if os.environ.get("GITHUB_RUN_ID"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = os.environ.get("GITHUB_REPOSITORY", "")
        tags["ci.run_url"] = f"{server}/{repository}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
    return tags
{%- if level >= 4 %}


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
{%- endif %}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the training job's compute target.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="compute configuration")
    args = parser.parse_args(argv)
    print(github_outputs(load_config(args.config)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
