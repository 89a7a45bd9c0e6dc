"""`make train-remote`: the training pipeline as a job on the Ray cluster of configs/compute.yaml,
submitted through the Ray Jobs API.

The job runs the pipeline module (`ENTRYPOINT`) in a copy of this directory (its working
directory) with a runtime environment that installs the project's requirements (unless
`install_requirements: false`) and carries the tracking URI; its logs are streamed here and the
command exits with the job's status: 0 when it succeeded.

The tracking store must be one the cluster reaches. The job works in a copy of the directory, so a
relative `sqlite:///mlflow.db` would fill a copy that is then lost: with a cluster on this machine
the URI is made absolute, and with a remote cluster a local store is refused: set
MLFLOW_TRACKING_URI to a server both reach.

Ray 2.60 and later turn token authentication on: `ray start` writes the token to
`~/.ray/auth_token`, which a client on the same machine reads when `RAY_AUTH_MODE=token`. This
command sets that when the file exists and RAY_AUTH_TOKEN is not set; for a remote cluster, set
RAY_AUTH_TOKEN to its token.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from .cluster import ClusterUnreachableError, check_reachable, host_and_port, use_local_token
from .compute import DEFAULT_CONFIG, RaySettings, ray_settings
from .tracking import tracking_uri

ENTRYPOINT = "python -m {{ package_name }}.pipeline"
PROJECT_ROOT = Path(".")
# What the job does not need from the working directory: environments, stores, data and caches.
# The patterns are .gitignore's: a leading / anchors one at the top (`/data`, not `src/*/data`).
EXCLUDES = [
    "/.git",
    "/.venv",
    "/mlflow.db",
    "/mlartifacts",
    "/data",
    "/models",
    "/reports",
    "__pycache__",
    "/.pytest_cache",
    "/.ruff_cache",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FINISHED = {"SUCCEEDED", "FAILED", "STOPPED"}


class RemoteError(RuntimeError):
    """The job cannot be submitted as configured."""


def is_local_store(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


def job_tracking_uri(uri: str, address: str) -> str:
    """The tracking URI the job gets: a local SQLite store made absolute for a cluster on this
    machine; refused for a remote one."""
    host, _ = host_and_port(address, 8265)
    if not is_local_store(uri):
        return uri
    if host not in LOOPBACK:
        raise RemoteError(
            f"the tracking store `{uri}` is a file on this machine, which the cluster at "
            f"`{address}` cannot write: set MLFLOW_TRACKING_URI to a tracking server both reach"
        )
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
        return prefix + str(Path(uri.removeprefix(prefix)).resolve())
    return uri


def requirements(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> list[str]:
    """The project's dependencies, as pyproject.toml declares them."""
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def runtime_env(settings: RaySettings, uri: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    """The job's runtime environment: the working directory, the tracking URI, the package on
    the path and, with `install_requirements`, the project's requirements."""
    env: dict[str, Any] = {
        "working_dir": str(root),
        "excludes": EXCLUDES,
        "env_vars": {
            "MLFLOW_TRACKING_URI": uri,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PYTHONPATH": "src",
        },
    }
    if settings.install_requirements:
        env["pip"] = requirements(root / "pyproject.toml")
    return env


def submit(settings: RaySettings, arguments: list[str], poll_seconds: float = 1.0) -> int:
    """Submits the pipeline, prints its logs as they come, and returns 0 if it succeeded."""
    check_reachable(settings.address)
    uri = job_tracking_uri(tracking_uri(), settings.address)
    use_local_token()
    from ray.job_submission import JobSubmissionClient

    try:
        client = JobSubmissionClient(settings.address)
    except Exception as error:  # Ray raises plain exceptions for refused or failed connections
        raise RemoteError(
            f"the Ray Jobs API at `{settings.address}` refused the client ({error}); a cluster "
            "with token authentication needs RAY_AUTH_TOKEN (its ~/.ray/auth_token) or, on its "
            "own machine, RAY_AUTH_MODE=token"
        ) from None
    entrypoint = " ".join([ENTRYPOINT, shlex.join(arguments)]) if arguments else ENTRYPOINT
    job_id = client.submit_job(entrypoint=entrypoint, runtime_env=runtime_env(settings, uri))
    print(f"submitted job {job_id} to {settings.address}: {entrypoint}", flush=True)
    printed = 0
    while True:
        status = str(client.get_job_status(job_id)).rpartition(".")[2]
        logs = client.get_job_logs(job_id)
        print(logs[printed:], end="", flush=True)
        printed = len(logs)
        if status in FINISHED:
            break
        time.sleep(poll_seconds)
    print(f"job {job_id}: {status}")
    return 0 if status == "SUCCEEDED" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the training pipeline as a Ray job.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="compute.yaml to use")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value of the training configuration, as `make train` does",
    )
    args = parser.parse_args(argv)
    try:
        settings = ray_settings(args.config)
        if settings.engine != "ray":
            raise RemoteError(
                f"{args.config} says `engine: {settings.engine}`: set `engine: ray` to train on "
                "the cluster, or run `make train`"
            )
        arguments = [part for override in args.overrides for part in ("--set", override)]
        return submit(settings, arguments)
    except (ClusterUnreachableError, RemoteError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
