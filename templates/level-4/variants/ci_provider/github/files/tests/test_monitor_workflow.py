"""The scheduled Monitor workflow runs at the cadence configs/monitoring.yaml declares, and runs no
job, and so costs nothing, until monitoring is switched on with the repository variable
MONITORING_ENABLED."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "monitor.yml"
SWITCHED_ON = "vars.MONITORING_ENABLED == 'true'"


def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_runs_on_the_schedule_of_the_configuration() -> None:
    # YAML 1.1 reads the key `on` as true.
    triggers = workflow()[True]
    configured = yaml.safe_load((ROOT / "configs" / "monitoring.yaml").read_text())["schedule"]
    assert [schedule["cron"] for schedule in triggers["schedule"]] == [configured]


def test_every_job_waits_for_monitoring_to_be_switched_on() -> None:
    jobs = workflow()["jobs"]
    assert jobs
    for name, job in jobs.items():
        assert job.get("if") == SWITCHED_ON, f"job `{name}` runs before monitoring is switched on"
