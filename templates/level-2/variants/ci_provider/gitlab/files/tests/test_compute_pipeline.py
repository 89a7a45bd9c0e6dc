"""The training job runs on the compute configs/compute.yaml declares: GitLab picks its runner by
the job's `tags` when the pipeline is created, so they must say what the file says."""

from pathlib import Path

import yaml

from {{ package_name }}.compute import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_training_job_runs_on_the_configured_runner() -> None:
    config = load_config(ROOT / "configs" / "compute.yaml")
    job = yaml.safe_load((ROOT / ".gitlab" / "ci" / "model.yml").read_text())["train"]
    runner = config.runner if isinstance(config.runner, list) else [config.runner]
    assert job["tags"] == runner
    assert job["timeout"] == f"{config.timeout_minutes} minutes"
