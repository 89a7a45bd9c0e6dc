"""Deploy targets: where a model version runs as a service, behind one interface.

A `Target` deploys a `Bundle` (one model version, exported by `make bundle`) and returns a
`Deployment` with the URL it answers on; `status` says whether that deployment is up and which
version it serves; `rollback` undoes it, so the environment serves what it served before (for the
targets here, which start a fresh service per deployment: nothing). The release
(release.py) deploys every candidate to staging through this interface, runs the release tests
against the URL and rolls staging back afterwards.

Targets, chosen in `configs/deploy.yaml` (or `DEPLOY_TARGET`):

- `local` (local.py): the application as a subprocess on a free port of this machine. It needs
  neither Docker nor a cloud account, so the release runs anywhere, CI runners included.
- `docker` (docker.py): the serving image of the version, run on this machine's Docker engine.
- `kubernetes` (kubernetes.py): an extension point. Selecting it is a configuration error that
  says what to implement.

A new target is a class with the three methods and a branch in `target_for`.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from ..score import BUNDLE_MANIFEST

DEFAULT_CONFIG = Path("configs/deploy.yaml")
TARGETS = ("local", "docker", "kubernetes")


class DeployError(Exception):
    """A deployment that failed: the service did not start, or serves something else."""


class TargetNotConfigured(DeployError):
    """The chosen target cannot be used as configured."""


@dataclass(frozen=True)
class Bundle:
    """One model version exported for serving: `path` holds `release.json` and `model/`."""

    path: Path
    version: str
    sha256: str

    @classmethod
    def read(cls, path: Path) -> Bundle:
        manifest = path / BUNDLE_MANIFEST
        if not manifest.is_file():
            raise DeployError(f"no model bundle at {path}: run `make bundle` first")
        content = json.loads(manifest.read_text())
        return cls(path, str(content["version"]), str(content["sha256"]))


@dataclass(frozen=True)
class Deployment:
    environment: str
    target: str
    version: str
    url: str
    handle: str
    deployed_at: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Status:
    running: bool
    healthy: bool
    model_version: str | None
    detail: str


class Target(Protocol):
    name: str
    # A fresh service per deployment, taken down once the release tests have run.
    ephemeral: bool

    def deploy(self, bundle: Bundle, environment: str) -> Deployment: ...

    def status(self, deployment: Deployment) -> Status: ...

    def rollback(self, deployment: Deployment) -> None: ...


@dataclass(frozen=True)
class DeployConfig:
    staging_target: str = "local"
    startup_timeout_seconds: float = 120.0
    docker_image: str | None = None


def load_config(
    path: Path = DEFAULT_CONFIG, environ: Mapping[str, str] = os.environ
) -> DeployConfig:
    """Reads `configs/deploy.yaml`; `DEPLOY_TARGET` and `IMAGE` override what it says."""
    raw = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    if not isinstance(raw, dict) or set(raw) - {"staging", "docker"}:
        raise TargetNotConfigured(f"{path}: expected the keys `staging` and `docker`")
    staging = raw.get("staging") or {}
    docker = raw.get("docker") or {}
    if set(staging) - {"target", "startup_timeout_seconds"} or set(docker) - {"image"}:
        raise TargetNotConfigured(
            f"{path}: `staging` takes `target` and `startup_timeout_seconds`; `docker`, `image`"
        )
    target = environ.get("DEPLOY_TARGET") or str(staging.get("target", "local"))
    if target not in TARGETS:
        raise TargetNotConfigured(f"unknown deploy target {target!r}; the targets are {TARGETS}")
    timeout = staging.get("startup_timeout_seconds", DeployConfig.startup_timeout_seconds)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise TargetNotConfigured(f"{path}: `staging.startup_timeout_seconds` must be positive")
    image = environ.get("IMAGE") or str(docker.get("image") or "") or None
    return DeployConfig(target, float(timeout), image)


def target_for(config: DeployConfig, directory: Path) -> Target:
    """The configured staging target; `directory` keeps what it writes (logs, say)."""
    if config.staging_target == "local":
        from .local import LocalTarget

        return LocalTarget(directory, startup_timeout=config.startup_timeout_seconds)
    if config.staging_target == "docker":
        from .docker import DockerTarget

        return DockerTarget(config.docker_image, startup_timeout=config.startup_timeout_seconds)
    from .kubernetes import KubernetesTarget

    return KubernetesTarget()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def get_json(url: str, timeout: float = 5.0) -> tuple[int, Any]:
    """The status and JSON body of a GET; status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except (OSError, ValueError):
        return 0, None


def probe(url: str, running: bool = True) -> Status:
    """What the service at `url` says about itself: healthy, and which version it serves."""
    if not running:
        return Status(False, False, None, "not running")
{%- block probe_request %}
    health, _ = get_json(f"{url}/health")
{%- endblock %}
    _, version = get_json(f"{url}/version")
    served = version.get("model_version") if isinstance(version, dict) else None
    detail = "healthy" if health == 200 else f"/{% block probe_in_detail %}health{% endblock %} answered {health or 'nothing'}"
    return Status(True, health == 200, served, detail)


def wait_until_healthy(
    url: str, timeout: float, alive: Callable[[], bool], interval: float = 0.25
) -> None:
    """Waits for `url`/{% block probe_in_docstring %}health{% endblock %} to answer 200; raises `DeployError` if the service stops or the time
    runs out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise DeployError(f"the service for {url} stopped before it was healthy")
        if get_json(f"{url}/{% block probe_polled %}health{% endblock %}", timeout=2.0)[0] == 200:
            return
        time.sleep(interval)
    raise DeployError(f"{url} was not healthy within {timeout:g} seconds")
