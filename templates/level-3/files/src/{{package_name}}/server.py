"""The server: the application under uvicorn, with a worker process for each core it is given.

The serving image runs it:
`python -m {{ package_name }}.server --host 0.0.0.0 --port 8000`.
The number of worker processes is `WEB_CONCURRENCY` (uvicorn's own setting) when it is set, else
the number of CPUs the process may use: the cores of its CPU set, bounded by its cgroup's quota (a
container's `--cpus`, a pod's CPU limit, rounded up), at least 1. Each worker is a process of its
own, with its own copy of the models; a Python process scores on one core at a time, so one
worker per core is what uses them all. Set `WEB_CONCURRENCY=1` where memory is
short, and scale with replicas instead.

With more than one worker, the server makes a directory for the workers of this run to share,
named by `SERVER_RUN_DIR` in their environment, and removes it when it stops; the number of
workers is in `SERVER_WORKERS`.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

APP = "{{ package_name }}.app:app"
WORKERS_ENV = "WEB_CONCURRENCY"
RUN_DIR_ENV = "SERVER_RUN_DIR"
SERVER_WORKERS_ENV = "SERVER_WORKERS"
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cpu_quota(cpu_max: Path = CPU_MAX) -> float | None:
    """The CPUs a cgroup (v2) allows, such as 1.5; `None` without a quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    return int(quota) / int(period)


def available_cpus(cpu_max: Path = CPU_MAX) -> int:
    """The CPUs this process may use: its CPU set, bounded by its cgroup's quota."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    quota = cpu_quota(cpu_max)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def workers(environ: Mapping[str, str] = os.environ, cpu_max: Path = CPU_MAX) -> int:
    """`WEB_CONCURRENCY` if set, else one worker per CPU available."""
    text = environ.get(WORKERS_ENV, "").strip()
    if not text:
        return available_cpus(cpu_max)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{WORKERS_ENV} must be a whole number of workers, 1 or more, not {text}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the application with uvicorn.")
    parser.add_argument("--host", default="127.0.0.1", help="the address to bind")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    import uvicorn

    count = workers()
    run_dir = None
    if count > 1:
        # The workers are started after this and inherit the environment.
        run_dir = tempfile.mkdtemp(prefix="{{ package_name }}-server-")
        os.environ[RUN_DIR_ENV] = run_dir
{%- block worker_environment %}{% endblock %}
    os.environ[SERVER_WORKERS_ENV] = str(count)
    try:
        uvicorn.run(APP, host=args.host, port=args.port, workers=count)
    finally:
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
