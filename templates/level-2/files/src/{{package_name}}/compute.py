"""The compute that training runs on, declared in `configs/compute.yaml`.

The Train workflow asks `python -m {{ package_name }}.compute`
(`make compute-target`) for the runner and timeout of its training job, as GitHub step outputs,
so where training runs is configuration under review rather than whichever machine someone used.
Every training run records the machine it ran on (`describe`) next to its metrics.
{%- block docstring %}{% endblock %}

This module needs only PyYAML, so the workflow can run it before installing the project.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
{%- block imports_after_platform %}{% endblock %}
from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_CONFIG = Path("configs/compute.yaml")
{%- block keys %}
KEYS = {"runner", "timeout_minutes"}
{%- endblock %}
{%- block engine_keys %}{% endblock %}


@dataclass(frozen=True)
class ComputeConfig:
    runner: str | list[str] = "ubuntu-latest"
    timeout_minutes: int = 60
{%- block config_fields %}{% endblock %}


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
{%- block check_engine %}{% endblock %}
{%- block load_config_result %}
    return ComputeConfig(runner=runner, timeout_minutes=timeout)
{%- endblock %}
{%- block engine %}


# Where the search's trials and batch scoring run: this process.
ENGINES = ("local",)


def configured_engine() -> str:
    """The engine the search and batch scoring run on: this process."""
    return "local"
{%- endblock %}


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
{%- block metering %}{% endblock %}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the training job's compute target.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="compute configuration")
    args = parser.parse_args(argv)
    print(github_outputs(load_config(args.config)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
