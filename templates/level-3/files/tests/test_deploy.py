"""Deploy targets: the configuration, the local target for real, and the targets that need more
configuration than they have."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import urllib.request
from pathlib import Path

import pytest

from {{ package_name }}.deploy import (
    Bundle,
    DeployConfig,
    DeployError,
    TargetNotConfigured,
    get_json,
    load_config,
    target_for,
)
from {{ package_name }}.deploy.docker import DockerTarget
from {{ package_name }}.deploy.local import LocalTarget

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "deploy.yaml"


def test_the_shipped_staging_is_local_and_the_environment_overrides_it() -> None:
    assert load_config(SHIPPED, environ={}) == DeployConfig("local", 120.0, None)
    overridden = load_config(SHIPPED, environ={"DEPLOY_TARGET": "docker", "IMAGE": "ghcr.io/a/b:1"})
    assert overridden == DeployConfig("docker", 120.0, "ghcr.io/a/b:1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("staging:\n  target: heroku\n", "unknown deploy target 'heroku'"),
        ("staging:\n  startup_timeout_seconds: 0\n", "must be positive"),
        ("staging:\n  replicas: 2\n", "`staging` takes"),
        ("production: {}\n", "expected the keys"),
    ],
)
def test_a_bad_deploy_configuration_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(text)
    with pytest.raises(TargetNotConfigured, match=message):
        load_config(path, environ={})


def test_targets_without_their_configuration_refuse_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TargetNotConfigured, match="needs the image to run"):
        target_for(DeployConfig("docker"), tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetNotConfigured, match="not on PATH"):
        target_for(DeployConfig("docker", docker_image="ghcr.io/a/b:1"), tmp_path)
    with pytest.raises(TargetNotConfigured, match="extension point"):
        target_for(DeployConfig("kubernetes"), tmp_path)


def test_the_docker_target_runs_the_image_alone_on_a_loopback_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\nexit 0\n")
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    target = DockerTarget("ghcr.io/team/project:model-v3")
    command = target.run_command(Bundle(tmp_path, "3", "0" * 64), "staging")
    assert command[:4] == ["docker", "run", "--detach", "--rm"]
    assert command[4:6] == ["--publish", "127.0.0.1::8000"]
    assert "CHALLENGER_URI=" in command
    # The container listens on 0.0.0.0, so labels need the token, which it gets from here.
    assert command[command.index("FEEDBACK_TOKEN") - 1] == "--env"
    assert "{{ package_name }}.model-version=3" in command
    assert command[-1] == "ghcr.io/team/project:model-v3"


def test_a_directory_without_release_json_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="make bundle"):
        Bundle.read(tmp_path)


def test_the_local_target_deploys_reports_and_rolls_back(
    model_path: Path, sample_rows: list[dict[str, float]], tmp_path: Path
) -> None:
    # A model file serves as a bundle directory does, and starts faster.
    sha256 = hashlib.sha256(model_path.read_bytes()).hexdigest()
    target = LocalTarget(tmp_path / "deployments", startup_timeout=60)
    deployment = target.deploy(Bundle(model_path, "7", sha256), "staging")
    try:
        assert deployment.url.startswith("http://127.0.0.1:")
        assert (deployment.environment, deployment.target, deployment.version) == (
            "staging",
            "local",
            "7",
        )
        status = target.status(deployment)
        assert status.running and status.healthy
        version = get_json(f"{deployment.url}/version")[1]
        assert version["model_sha256"] == sha256
        assert [variant["name"] for variant in version["variants"]] == ["champion"]
        request = urllib.request.Request(
            f"{deployment.url}/predict",
            data=json.dumps({"rows": sample_rows}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
        assert len(answer["predictions"]) == len(sample_rows)
        # It listens on loopback and says so: labels need no token there.
        label = {"prediction_id": answer["prediction_ids"][0], "label": 1}
        request = urllib.request.Request(
            f"{deployment.url}/feedback",
            data=json.dumps({"labels": [label]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"received": 1}
    finally:
        target.rollback(deployment)
    assert not target.status(deployment).running
    logs = next((tmp_path / "deployments").iterdir())
    assert (logs / "predictions.jsonl").read_text().count("\n") == len(sample_rows)
    assert (logs / "server.log").exists()


def test_a_service_that_does_not_start_fails_the_deployment(
    model_path: Path, tmp_path: Path
) -> None:
    target = LocalTarget(tmp_path, startup_timeout=30, python=shutil.which("false") or "false")
    with pytest.raises(DeployError, match="stopped before it was healthy"):
        target.deploy(Bundle(model_path, "7", "0" * 64), "staging")
