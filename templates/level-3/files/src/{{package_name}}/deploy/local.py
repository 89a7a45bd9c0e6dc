"""The `local` target: the application as a subprocess of this machine, on a free port.

It serves the bundle alone (no challenger), logs its predictions beside its server log, and
answers on `http://127.0.0.1:<port>`, telling the application so (`UVICORN_HOST`, see
access.py). It needs neither Docker nor a cloud account, so the release and its tests run the
same on a laptop and on a CI runner. Rolling back stops the process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from . import Bundle, DeployError, Deployment, Status, now, probe, wait_until_healthy

APP = "{{ package_name }}.app:app"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind((host, 0))
        return int(probe_socket.getsockname()[1])


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalTarget:
    name = "local"
    ephemeral = True

    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 120.0,
        python: str = sys.executable,
    ) -> None:
        self.directory = directory
        self.host = host
        self.startup_timeout = startup_timeout
        self.python = python
        self._processes: dict[int, subprocess.Popen[bytes]] = {}

    def environment(self, bundle: Bundle, workdir: Path) -> dict[str, str]:
        """The service's environment: the bundle as the only model, its logs in `workdir`, and
        the address it listens on."""
        environ = {key: value for key, value in os.environ.items() if key != "MODEL_URI"}
        environ.update(
            UVICORN_HOST=self.host,
            MODEL_PATH=str(bundle.path.resolve()),
            CHALLENGER_URI="",
            PREDICTION_LOG=str(workdir / "predictions.jsonl"),
            FEEDBACK_LOG=str(workdir / "feedback.jsonl"),
        )
        return environ

    def deploy(self, bundle: Bundle, environment: str) -> Deployment:
        port = free_port(self.host)
        workdir = (self.directory / f"{environment}-v{bundle.version}-{port}").resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        server_log = workdir / "server.log"
        command = [self.python, "-m", "uvicorn", APP, "--host", self.host, "--port", str(port)]
        with server_log.open("wb") as log:
            process = subprocess.Popen(
                command,
                env=self.environment(bundle, workdir),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes[process.pid] = process
        url, handle = f"http://{self.host}:{port}", str(process.pid)
        deployment = Deployment(environment, self.name, bundle.version, url, handle, now())
        try:
            wait_until_healthy(deployment.url, self.startup_timeout, lambda: process.poll() is None)
        except DeployError as error:
            self.rollback(deployment)
            tail = server_log.read_text(errors="replace")[-2000:]
            raise DeployError(f"{error}; the end of {server_log}:\n{tail}") from None
        return deployment

    def status(self, deployment: Deployment) -> Status:
        pid = int(deployment.handle)
        process = self._processes.get(pid)
        running = process.poll() is None if process is not None else is_alive(pid)
        return probe(deployment.url, running)

    def rollback(self, deployment: Deployment) -> None:
        """Stops the service: a local deployment leaves nothing behind."""
        pid = int(deployment.handle)
        process = self._processes.pop(pid, None)
        if process is None:
            if is_alive(pid):
                os.kill(pid, signal.SIGTERM)
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
