"""The `docker` target: the serving image of a version, run on this machine's Docker engine.

The image is the one the Deploy model workflow builds from the bundle (the Dockerfile bakes the
bundle in, so it serves exactly that version); name it in `configs/deploy.yaml` (`docker.image`)
or with `IMAGE`. The container publishes port 8000 on a free port of 127.0.0.1 and serves the
version alone; the deployment fails if the image serves another version than the bundle's.
Rolling back removes the container.
"""

from __future__ import annotations

import shutil
import subprocess

from . import (
    Bundle,
    DeployError,
    Deployment,
    Status,
    TargetNotConfigured,
    now,
    probe,
    wait_until_healthy,
)

CONTAINER_PORT = 8000


class DockerTarget:
    name = "docker"
    ephemeral = True

    def __init__(
        self, image: str | None, *, startup_timeout: float = 120.0, docker: str = "docker"
    ) -> None:
        if not image:
            raise TargetNotConfigured(
                "the docker target needs the image to run: set `docker.image` in "
                "configs/deploy.yaml or IMAGE, such as IMAGE=ghcr.io/owner/repository:model-v3"
            )
        if shutil.which(docker) is None:
            raise TargetNotConfigured(f"the docker target needs `{docker}`, which is not on PATH")
        self.image = image
        self.startup_timeout = startup_timeout
        self.docker = docker

    def run_command(self, bundle: Bundle, environment: str) -> list[str]:
        return [
            self.docker,
            "run",
            "--detach",
            "--rm",
            "--publish",
            f"127.0.0.1::{CONTAINER_PORT}",
            "--env",
            "CHALLENGER_URI=",
            # The container listens on 0.0.0.0: /feedback takes labels only with the token, passed
            # on from this environment when it is set there (`make release` sets one).
            "--env",
            "FEEDBACK_TOKEN",
            "--label",
            f"{{ package_name }}.environment={environment}",
            "--label",
            f"{{ package_name }}.model-version={bundle.version}",
            self.image,
        ]

    def _docker(self, *args: str) -> str:
        completed = subprocess.run(
            [self.docker, *args], capture_output=True, text=True, check=False, timeout=300
        )
        if completed.returncode != 0:
            raise DeployError(f"`docker {' '.join(args)}` failed: {completed.stderr.strip()}")
        return completed.stdout.strip()

    def _running(self, container: str) -> bool:
        try:
            return self._docker("inspect", "--format", "{% raw %}{{.State.Running}}{% endraw %}", container) == "true"
        except DeployError:
            return False

    def deploy(self, bundle: Bundle, environment: str) -> Deployment:
        container = self._docker(*self.run_command(bundle, environment)[1:])
        published = self._docker("port", container, f"{CONTAINER_PORT}/tcp").splitlines()[0]
        url = f"http://{published.strip()}"
        deployment = Deployment(environment, self.name, bundle.version, url, container, now())
        try:
            wait_until_healthy(url, self.startup_timeout, lambda: self._running(container))
            served = probe(url).model_version
            if served != bundle.version:
                raise DeployError(
                    f"{self.image} serves version {served}, not {bundle.version}: build the image "
                    "from the bundle of the version being released"
                )
        except DeployError:
            self.rollback(deployment)
            raise
        return deployment

    def status(self, deployment: Deployment) -> Status:
        return probe(deployment.url, self._running(deployment.handle))

    def rollback(self, deployment: Deployment) -> None:
        """Removes the container."""
        subprocess.run(
            [self.docker, "rm", "--force", deployment.handle],
            capture_output=True,
            check=False,
            timeout=120,
        )
