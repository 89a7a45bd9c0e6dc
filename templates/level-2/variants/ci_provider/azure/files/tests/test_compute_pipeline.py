"""The training job runs on the compute configs/compute.yaml declares: Azure Pipelines picks the
agent pool when a run is queued, so the job's `pool` must say what the file says."""

from pathlib import Path

import yaml

from {{ package_name }}.compute import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_training_job_runs_on_the_configured_agents() -> None:
    config = load_config(ROOT / "configs" / "compute.yaml")
    pipeline = yaml.safe_load((ROOT / ".azure-pipelines" / "train.yml").read_text())
    [stage] = [stage for stage in pipeline["stages"] if stage["stage"] == "train"]
    [job] = stage["jobs"]
    assert config.runner in (job["pool"].get("vmImage"), job["pool"].get("name"))
    assert int(job["timeoutInMinutes"]) == config.timeout_minutes
