"""The automatic release, the rollback and the challenger, against a real registry. Staging is a
target that records what it is asked to do, and the release tests' verdict is given: the local
target is tested in test_deploy.py, the release tests against a running service by `make release`
(see the e2e proof)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ package_name }} import registry, release, tracking
from {{ package_name }}.deploy import Bundle, DeployError, Deployment, Status
from {{ package_name }}.gate import DEFAULT_CONFIG as GATES
from {{ package_name }}.gate import REPORTS, GateConfig, load_config
from {{ package_name }}.score import load_model, predict


@dataclass
class RecordingTarget:
    """A staging target that serves nothing: it records deployments and rollbacks."""

    serves: str | None = None
    fails: bool = False
    name: str = "recording"
    ephemeral: bool = True
    deployed: list[Bundle] = field(default_factory=list)
    rolled_back: list[Deployment] = field(default_factory=list)

    def deploy(self, bundle: Bundle, environment: str) -> Deployment:
        if self.fails:
            raise DeployError("the service did not start")
        self.deployed.append(bundle)
        return Deployment(environment, self.name, bundle.version, "http://staging.test", "1", "now")

    def status(self, deployment: Deployment) -> Status:
        return Status(True, True, self.serves or deployment.version, "healthy")

    def rollback(self, deployment: Deployment) -> None:
        self.rolled_back.append(deployment)


@pytest.fixture
def client(trained_tracking_uri: str) -> MlflowClient:
    """Version 1, gated and released as the champion, and version 2, the same model registered
    again as the candidate, which the gate has passed."""
    client = tracking.configure(trained_tracking_uri)
    first = registry.get_version(client, "1")
    registry.record_gate(client, "1", passed=True, summary="ok")
    registry.promote(client, "1")
    registry.register(client, first.source, run_id=first.run_id)
    registry.record_gate(client, "2", passed=True, summary="ok")
    return client


def release_candidate(
    client: MlflowClient,
    tmp_path: Path,
    target: RecordingTarget,
    *,
    tests_pass: bool = True,
    gate_config: GateConfig | None = None,
    version: str | None = None,
    force: bool = False,
) -> release.ReleaseResult:
    return release.release(
        client,
        release.choose(client, version),
        gate_config=gate_config or load_config(GATES),
        target=target,
        run_tests=lambda deployment: tests_pass,
        bundle_directory=tmp_path / "bundle",
        reports=tmp_path / "reports",
        log=tmp_path / "deployments.jsonl",
        force=force,
    )


def champion(client: MlflowClient) -> str:
    return registry.version_by_alias(client, registry.CHAMPION).version


def test_a_bundle_serves_exactly_its_version(
    client: MlflowClient, tmp_path: Path, dataset: pd.DataFrame
) -> None:
    bundle = release.export_bundle(client, registry.get_version(client, "2"), tmp_path / "b")

    manifest = json.loads((tmp_path / "b" / "release.json").read_text())
    assert manifest["version"] == bundle.version == "2"
    assert manifest["uri"] == "models:/{{ package_name }}/2"
    from_bundle = load_model(tmp_path / "b")
    from_registry = load_model(registry.model_uri("2"))
    assert from_bundle.version == "2"
    assert from_bundle.sha256 == from_registry.sha256 == bundle.sha256
    rows = dataset.drop(columns=["target"]).head(10)
    assert np.allclose(
        predict(from_bundle, rows).predictions, predict(from_registry, rows).predictions
    )


def test_a_version_that_passes_everything_becomes_the_champion(
    client: MlflowClient, tmp_path: Path
) -> None:
    target = RecordingTarget()

    result = release_candidate(client, tmp_path, target)

    assert (result.version, result.outcome, result.previous) == ("2", "promoted", "1")
    assert champion(client) == "2"
    assert [bundle.version for bundle in target.deployed] == ["2"]
    assert [deployment.version for deployment in target.rolled_back] == ["2"]
    tags = registry.get_version(client, "2").tags
    assert tags[release.RELEASE_TAG] == release.RELEASED
    assert tags["release.staging"] == "recording http://staging.test"
    assert tags[registry.PREVIOUS_CHAMPION_TAG] == "1"
    entries = release.history(tmp_path / "deployments.jsonl")
    assert [(e["environment"], e["outcome"]) for e in entries] == [
        ("staging", "release-tests-passed"),
        ("production", "promoted"),
    ]
    assert entries[1]["previous"] == "1"
    assert entries[1]["url"] == "models:/{{ package_name }}@champion"
    assert json.loads((tmp_path / "reports" / "gate.json").read_text())["passed"] is True


def test_failing_release_tests_stop_the_release(client: MlflowClient, tmp_path: Path) -> None:
    target = RecordingTarget()
    with pytest.raises(release.ReleaseRefused, match="release tests failed"):
        release_candidate(client, tmp_path, target, tests_pass=False)
    assert champion(client) == "1"
    assert len(target.rolled_back) == 1
    assert registry.get_version(client, "2").tags[release.RELEASE_TAG] == release.FAILED
    (entry,) = release.history(tmp_path / "deployments.jsonl")
    assert (entry["environment"], entry["outcome"]) == ("staging", "release-tests-failed")


def test_a_staging_that_fails_or_serves_another_version_stops_the_release(
    client: MlflowClient, tmp_path: Path
) -> None:
    with pytest.raises(release.ReleaseRefused, match="did not start"):
        release_candidate(client, tmp_path, RecordingTarget(fails=True))
    impostor = RecordingTarget(serves="1")
    with pytest.raises(release.ReleaseRefused, match="staging serves version 1, not 2"):
        release_candidate(client, tmp_path, impostor)
    assert len(impostor.rolled_back) == 1
    assert champion(client) == "1"


def test_the_gate_is_checked_again_against_the_champion_of_now(
    client: MlflowClient, tmp_path: Path
) -> None:
    # Version 2 passed when it was trained; it does not beat today's champion by enough.
    strict = load_config(GATES)
    strict = GateConfig(strict.thresholds, strict.champion_metric, min_improvement=0.01)
    target = RecordingTarget()
    with pytest.raises(release.ReleaseRefused, match="fails the gate against champion v1"):
        release_candidate(client, tmp_path, target, gate_config=strict)
    assert target.deployed == []
    assert champion(client) == "1"
    assert registry.get_version(client, "2").tags[registry.GATE_TAG] == registry.FAILED


def test_the_champion_is_not_released_again(client: MlflowClient, tmp_path: Path) -> None:
    target = RecordingTarget()
    result = release_candidate(client, tmp_path, target, version="1")
    assert result.outcome == "unchanged"
    assert target.deployed == []


def test_rollback_returns_to_the_previous_champion(client: MlflowClient, tmp_path: Path) -> None:
    log = tmp_path / "deployments.jsonl"
    registry.promote(client, "2")

    assert release.rollback(client, log=log) == ("2", "1")

    assert champion(client) == "1"
    rolled_back = registry.get_version(client, "2").tags
    assert rolled_back[release.ROLLED_BACK_TO_TAG] == "1"
    assert release.ROLLED_BACK_AT_TAG in rolled_back
    (entry,) = release.history(log)
    assert (entry["outcome"], entry["version"], entry["previous"]) == ("rolled-back", "1", "2")
    # Version 1 replaced no champion, so there is nothing further back to go to.
    with pytest.raises(release.ReleaseError, match="records no previous champion"):
        release.rollback(client, log=log)
    assert release.rollback(client, to="2", log=log) == ("1", "2")


def test_a_rolled_back_version_is_released_again_only_when_forced(
    client: MlflowClient, tmp_path: Path
) -> None:
    registry.promote(client, "2")
    release.rollback(client, log=tmp_path / "rollbacks.jsonl")
    with pytest.raises(release.ReleaseRefused, match="was rolled back"):
        release_candidate(client, tmp_path, RecordingTarget())
    assert release_candidate(client, tmp_path, RecordingTarget(), force=True).outcome == "promoted"


def test_there_is_nothing_to_roll_back_without_a_champion(
    trained_tracking_uri: str, tmp_path: Path
) -> None:
    client = tracking.configure(trained_tracking_uri)
    with pytest.raises(release.ReleaseError, match="no `champion` to roll back"):
        release.rollback(client, log=tmp_path / "log.jsonl")


def test_the_commands_roll_back_and_choose_a_challenger(
    client: MlflowClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert release.main(["challenger", "1"]) == 2
    assert "is the champion" in capsys.readouterr().err
    assert release.main(["challenger", "2"]) == 0
    assert registry.version_by_alias(client, release.CHALLENGER).version == "2"
    assert release.main(["challenger", "--clear"]) == 0
    assert registry.version_by_alias(client, release.CHALLENGER) is None

    registry.promote(client, "2")
    assert release.main(["rollback"]) == 0
    assert "version 1 is `champion` again (was version 2)" in capsys.readouterr().out
    assert release.main(["history"]) == 0
    assert "rolled-back" in capsys.readouterr().out


def test_a_version_must_pass_the_gate_to_be_the_challenger(client: MlflowClient) -> None:
    first = registry.get_version(client, "1")
    registry.register(client, first.source, run_id=first.run_id)
    with pytest.raises(release.ReleaseError, match="has not passed the gate"):
        release.set_challenger(client, "3")


def test_the_version_to_release_comes_from_the_gate_report(tmp_path: Path) -> None:
    report = tmp_path / "gate.json"
    report.write_text(json.dumps({"version": "4", "passed": True}))
    assert release.release_outputs(None, report) == "version=4\nimage-tag=model-v4\n"
    assert release.release_outputs("5", report) == "version=5\nimage-tag=model-v5\n"
    report.write_text(json.dumps({"version": "4", "passed": False}))
    with pytest.raises(release.ReleaseError, match="failed the gate"):
        release.release_outputs(None, report)
    with pytest.raises(release.ReleaseError, match="no gate report"):
        release.release_outputs(None, tmp_path / "missing.json")
    with pytest.raises(release.ReleaseError, match="not a model version number"):
        release.release_outputs("latest", report)


def test_the_release_reads_what_the_gate_writes() -> None:
    assert release.GATES == GATES
    assert release.GATE_REPORT == REPORTS / "gate.json"


def test_the_commands_that_read_a_file_start_without_mlflow_pandas_or_scikit_learn() -> None:
    """`make image-tag` and `make deployments` read one file each: they must not wait seconds
    for the imports that training and serving need."""
    imports = "import sys, {{ package_name }}.release"
    code = f"{imports}; print(sorted({{ '{{' }}'mlflow', 'pandas', 'sklearn'{{ '}}' }} & set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
