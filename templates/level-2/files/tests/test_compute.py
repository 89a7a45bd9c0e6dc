"""The compute target of the training job, and what a run records about its machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from {{ package_name }}.compute import (
    ComputeConfig,
    describe,
    github_outputs,
    load_config,
    main,
)

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "compute.yaml"


def outputs(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_the_shipped_target_is_the_ci_providers_hosted_runner() -> None:
    produced = outputs(github_outputs(load_config(SHIPPED)))
{%- if ci_provider == "github" %}
    assert json.loads(produced["runs-on"]) == "ubuntu-latest"
{%- elif ci_provider == "gitlab" %}
    assert json.loads(produced["runs-on"]) == "saas-linux-small-amd64"
{%- else %}
    assert json.loads(produced["runs-on"]) == "ubuntu-24.04"
{%- endif %}
    assert int(produced["timeout-minutes"]) > 0


def test_a_self_hosted_runner_is_a_list_of_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "compute.yaml"
    path.write_text("runner: [self-hosted, linux, gpu]\ntimeout_minutes: 240\n")
    assert load_config(path) == ComputeConfig(["self-hosted", "linux", "gpu"], 240)
    assert main(["--config", str(path)]) == 0
    produced = outputs(capsys.readouterr().out)
    assert json.loads(produced["runs-on"]) == ["self-hosted", "linux", "gpu"]
    assert produced["timeout-minutes"] == "240"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("runners: gpu\n", r"unknown keys \['runners'\]"),
        ("runner: []\n", "`runner` must be a runner label"),
        ("runner: 3\n", "`runner` must be a runner label"),
        ("timeout_minutes: 0\n", "`timeout_minutes` must be a positive integer"),
        ("timeout_minutes: soon\n", "`timeout_minutes` must be a positive integer"),
    ],
)
def test_a_bad_compute_configuration_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "compute.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_a_run_records_its_machine_and_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RUNNER_NAME", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    local = describe()
    assert local["compute.runner"] == "local"
    assert int(local["compute.cpus"]) >= 1
    assert "ci.run_url" not in local

    monkeypatch.setenv("RUNNER_NAME", "GitHub Actions 7")
    monkeypatch.setenv("GITHUB_RUN_ID", "123")
    monkeypatch.setenv("GITHUB_REPOSITORY", "team/project")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    in_ci = describe()
    assert in_ci["compute.runner"] == "GitHub Actions 7"
    assert in_ci["ci.run_url"] == "https://github.com/team/project/actions/runs/123"
