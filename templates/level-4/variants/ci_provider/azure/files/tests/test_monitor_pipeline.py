"""The Monitor pipeline runs at the cadence configs/monitoring.yaml declares, even when the code
has not changed, and runs nothing until monitoring is switched on with its variable
MONITORING_ENABLED."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / ".azure-pipelines" / "monitor.yml"


def pipeline() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text())


def test_the_pipeline_runs_on_the_schedule_of_the_configuration() -> None:
    configured = yaml.safe_load((ROOT / "configs" / "monitoring.yaml").read_text())["schedule"]
    schedules = pipeline()["schedules"]
    assert [schedule["cron"] for schedule in schedules] == [configured]
    # Production's data changes when the code does not: the schedule runs whatever changed.
    assert all(schedule["always"] in (True, "true") for schedule in schedules)


def test_every_stage_waits_for_monitoring_to_be_switched_on() -> None:
    definition = pipeline()
    assert definition["variables"]["MONITORING_ENABLED"] == "false"
    for stage in definition["stages"]:
        condition = stage.get("condition", "")
        assert condition == "eq(variables.MONITORING_ENABLED, 'true')", stage["stage"]
