"""Monitoring runs at the cadence configs/monitoring.yaml declares: `make monitor-schedule` creates
the pipeline schedule with that cron, and updates it when the file changes. Until monitoring is
switched on with the CI/CD variable MONITORING_ENABLED, its pipelines have no job."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

# The fake GitLab API of test_issues.py, its fixture included.
from test_issues import PROJECT, TOKEN, FakeGitLab, fake  # noqa: F401

from {{ package_name }} import gitlab

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "monitoring.yaml"


def test_the_schedule_is_the_cron_of_the_configuration(
    fake: tuple[FakeGitLab, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    state, url = fake
    environ = {"CI_API_V4_URL": url, "CI_PROJECT_ID": PROJECT, "GITLAB_TOKEN": TOKEN}
    configured = yaml.safe_load(CONFIG.read_text())["schedule"]
    assert gitlab.main(["schedule", "--config", str(CONFIG)], environ) == 0
    [schedule] = state.schedules
    assert (schedule["cron"], schedule["ref"], schedule["cron_timezone"]) == (
        configured,
        "main",
        "UTC",
    )
    assert schedule["variables"] == [{"key": "MLOPS_PIPELINE", "value": "monitor"}]

    # A new cadence in the file updates the schedule there is.
    changed = tmp_path / "monitoring.yaml"
    changed.write_text(CONFIG.read_text().replace(configured, "0 * * * *"))
    assert gitlab.main(["schedule", "--config", str(changed)], environ) == 0
    assert len(state.schedules) == 1 and state.schedules[0]["cron"] == "0 * * * *"
    assert len(state.schedules[0]["variables"]) == 1


def test_without_a_token_the_schedule_is_a_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert gitlab.main(["schedule", "--config", str(CONFIG)], {}) == 0
    assert "dry run" in capsys.readouterr().out


def test_monitoring_runs_only_once_switched_on() -> None:
    pipeline = yaml.safe_load((ROOT / ".gitlab" / "ci" / "monitor.yml").read_text())
    for name in ("monitor", "report-monitoring-failure"):
        conditions = [rule["if"] for rule in pipeline[name]["rules"]]
        assert conditions and all('$MONITORING_ENABLED == "true"' in c for c in conditions), name
