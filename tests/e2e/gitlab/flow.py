"""What the GitLab pipelines of each level must do, pipeline after pipeline, and what each must
leave behind: the life of a project on GitLab, each job at least once.

- level 1: a merge request (test, build-image) and a tag (release-image);
- level 2: a merge request that changes training (model-ci), a training pipeline run by hand and
  the manual release of its version (release-model), without an MLflow server;
- level 3: a training pipeline of the default branch that releases its version (staging, then
  production) from the registry its `train` job kept and promotes it by hand too (release-model,
  level 2's job, which stays), and one of another branch that releases nothing; then, with the
  team's MLflow server, two releases, the tag's image of the champion and the rollback;
- level 4, with the server: the schedule before monitoring is switched on (no pipeline), then on
  production's drifted traffic, triggering the training pipeline that ships the next version, and
  once more with the state of the previous monitor job; a failed training, release and monitoring,
  each filing its issue.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from scenario import production_traffic
from workflows import check

from pipelines import REGISTRY, TOKEN, Harness, Pipeline

MERGE_REQUEST = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "1"}


def scenario(harness: Harness, mlflow_server: Any, registry_state: Any) -> None:
    merge_request(harness)
    if harness.level <= 2:
        tag(harness)
    if harness.level == 2:
        training_released_by_hand(harness, registry_state)
    if harness.level >= 3:
        training_releases(harness, registry_state)
        with mlflow_server(harness) as server:
            with_a_server(harness, server, registry_state)
    if harness.level >= 4:
        failures_file_issues(harness)
        check(not harness.fake.unexpected, f"unexpected calls: {harness.fake.unexpected}")


def merge_request(harness: Harness) -> None:
    """A merge request: from level 2 it changes the training configuration, so model CI runs."""
    expected = {"test": "success", "build-image": "success"}
    if harness.level >= 2:
        git(harness, "checkout", "--quiet", "-b", "model-change")
        with open(harness.clone / "configs" / "train.yaml", "a") as config:
            config.write("# a change to training\n")
        git(harness, "commit", "--quiet", "-am", "Change training")
        expected["model-ci"] = "success"
    if harness.level >= 3:
        expected["build-image-model"] = "success"
    try:
        branch = "model-change" if harness.level >= 2 else "main"
        pipeline = harness.run(
            f"a merge request from {branch}",
            {**MERGE_REQUEST, "CI_COMMIT_REF_NAME": branch},
            expected,
            unset=["CI_COMMIT_BRANCH"],
        )
    finally:
        git(harness, "checkout", "--quiet", "main")
    check(not pipeline.pushed(), f"the merge request pushed {pipeline.pushed()}")
    built = [tags for tags in pipeline.built() if "demo:dev" in tags]
    check(len(built) == 1, f"the merge request built {pipeline.built()}")
    if harness.level >= 2:
        gate = pipeline.artifacts("model-ci") / "reports" / "training" / "gate.md"
        check(gate.is_file(), f"model-ci kept no gate report at {gate}")


def tag(harness: Harness, variables: dict[str, str] | None = None) -> Pipeline:
    expected = {"test": "success", "release-image": "success"}
    if harness.level >= 3:
        expected["release-bundle"] = "success"
    pipeline = harness.run(
        "the tag v0.1.0",
        {
            "CI_PIPELINE_SOURCE": "push",
            "CI_COMMIT_TAG": "v0.1.0",
            "CI_COMMIT_REF_NAME": "v0.1.0",
            **(variables or {}),
        },
        expected,
        unset=["CI_COMMIT_BRANCH"],
    )
    short = git(harness, "rev-parse", "--short=8", "HEAD")
    wanted = [f"{REGISTRY}:0.1.0", f"{REGISTRY}:sha-{short}"]
    check(pipeline.pushed() == wanted, f"the tag pushed {pipeline.pushed()}, not {wanted}")
    return pipeline


def training(
    harness: Harness,
    what: str,
    expected: dict[str, str],
    variables: dict[str, str] | None = None,
    manual: list[str] | None = None,
) -> Pipeline:
    return harness.run(
        what,
        {"CI_PIPELINE_SOURCE": "web", "MLOPS_PIPELINE": "train", **(variables or {})},
        {"train": "success", **expected},
        manual=manual,
    )


def training_released_by_hand(harness: Harness, registry_state: Any) -> None:
    pipeline = training(
        harness, "training, then its release by hand", {"release-model": "success"},
        manual=["release-model"],
    )  # fmt: skip
    gate = json.loads((pipeline.artifacts("train") / "reports/training/gate.json").read_text())
    check(gate["passed"], f"the gate: {gate}")
    state = registry_state(pipeline.artifacts("release-model") / "mlflow.db")
    check(state["aliases"].get("champion") == "1", f"release-model's registry: {state}")


RELEASED = {
    "release-bundle-version": "success",
    "release-staging-image": "success",
    "release": "success",
    "release-champion-image": "success",
}


def training_releases(harness: Harness, registry_state: Any) -> None:
    """Without a server: the training pipeline of the default branch releases the version its
    `train` job registered, and level 2's promotion by hand (release-model) still can; one of
    another branch only trains."""
    pipeline = training(
        harness,
        "training on main, without an MLflow server, also promoted by hand",
        {**RELEASED, "release-model": "success"},
        manual=["release-model"],
    )
    state = registry_state(pipeline.artifacts("release-model") / "mlflow.db")
    check(state["aliases"].get("champion") == "1", f"release-model's registry: {state}")
    wanted = [f"{REGISTRY}:model-v1", f"{REGISTRY}:champion"]
    check(pipeline.pushed() == wanted, f"the release pushed {pipeline.pushed()}, not {wanted}")
    state = registry_state(pipeline.artifacts("release") / "mlflow.db")
    check(state["aliases"].get("champion") == "1", f"the release's registry: {state}")
    deployments = pipeline.artifacts("release") / "reports" / "release" / "deployments.jsonl"
    outcomes = [json.loads(line)["outcome"] for line in deployments.read_text().splitlines()]
    check(outcomes[-2:] == ["release-tests-passed", "promoted"], f"deployments: {outcomes}")
    training(
        harness,
        "training on the branch `unreviewed`",
        {},
        {"CI_COMMIT_BRANCH": "unreviewed", "CI_COMMIT_REF_NAME": "unreviewed"},
    )


def with_a_server(harness: Harness, server: str, registry_state: Any) -> None:
    """Version 1 released; at level 4 production's traffic drifts and monitoring triggers the
    training of version 2; version 2 released, the tag's image of the champion, the rollback."""
    variables = {"MLFLOW_TRACKING_URI": server}
    database = harness.work / "mlflow-server" / "mlflow.db"
    training(harness, "version 1, on the MLflow server", RELEASED, variables)
    check(registry_state(database)["aliases"].get("champion") == "1", "version 1 not released")
    tag(harness, variables)
    triggered: dict[str, str] = {"CI_PIPELINE_SOURCE": "web"}
    if harness.level >= 4:
        triggered = monitoring_fires(harness, server)
    expected = {**RELEASED}
    pipeline = harness.run(
        "version 2" + (", as monitoring triggered it" if harness.level >= 4 else ""),
        {"MLOPS_PIPELINE": "train", **triggered, **variables},
        {"train": "success", **expected},
    )
    if harness.level >= 4:
        check("Why training runs: the retraining policy fired" in pipeline.log(), "no reason")
    state = registry_state(database)
    check(state["aliases"].get("champion") == "2", f"version 2 is not the champion: {state}")
    check(state["tags"]["2"].get("previous_champion") == "1", f"2 did not replace 1: {state}")
    harness.run(
        "the rollback",
        {"CI_PIPELINE_SOURCE": "web", "MLOPS_PIPELINE": "rollback", **variables},
        {"rollback": "success"},
    )
    state = registry_state(database)
    check(state["aliases"].get("champion") == "1", f"the rollback did not restore 1: {state}")
    if harness.level >= 4:
        monitoring_cools_down(harness, server)


SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule", "MLOPS_PIPELINE": "monitor"}


def monitoring(harness: Harness, server: str) -> dict[str, str]:
    files = f"{harness.api_url}/e2e/files"
    return {
        **SCHEDULE,
        "MONITORING_ENABLED": "true",
        "MLFLOW_TRACKING_URI": server,
        "PREDICTION_LOG": f"{files}/predictions.jsonl",
        "FEEDBACK_LOG": f"{files}/feedback.jsonl",
        "GITLAB_TOKEN": TOKEN,
    }


def monitoring_fires(harness: Harness, server: str) -> dict[str, str]:
    """Before it is switched on, the schedule makes no pipeline; then production's traffic
    drifts, and the monitor triggers training with the reason and files the version's issue.
    Returns the variables of the pipeline it triggered."""
    harness.run("the schedule, before monitoring is switched on", SCHEDULE, {})
    production_traffic(harness, server)
    pipeline = harness.run(
        "the schedule, switched on; production's traffic has drifted",
        monitoring(harness, server),
        {"monitor": "success"},
    )
    fake = harness.fake
    check(len(fake.triggered) == 1, f"monitoring triggered {fake.triggered}, not one pipeline")
    trigger = fake.triggered[0]
    variables = trigger["variables"]
    check(
        trigger["ref"] == "main" and variables["MLOPS_PIPELINE"] == "train",
        f"the trigger: {trigger}",
    )
    check(any(i["title"].startswith("Retraining triggered") for i in fake.issues), "no issue")
    state = pipeline.artifacts("monitor") / "reports" / "monitoring" / "state.json"
    check(state.is_file(), f"monitor kept no state at {state}")
    fake.artifacts[("monitor", "reports/monitoring/state.json")] = state.read_bytes()
    # As GitLab makes it: a pipeline of the trigger API with the job token.
    return {"CI_PIPELINE_SOURCE": "pipeline", **variables}


def monitoring_cools_down(harness: Harness, server: str) -> None:
    pipeline = harness.run(
        "the schedule again, with the state of the previous monitor job",
        monitoring(harness, server),
        {"monitor": "success"},
    )
    check(len(harness.fake.triggered) == 1, f"triggered again: {harness.fake.triggered}")
    check("cooling down until" in pipeline.log(), "the monitor did not read its previous state")


def failures_file_issues(harness: Harness) -> None:
    before = len(harness.fake.issues)
    token = {"GITLAB_TOKEN": TOKEN}
    # report-release-failure runs after any failure of the pipeline (it has no `needs`, see
    # monitor.yml) and files nothing when the training failed: one issue, the training's.
    harness.run(
        "training with a sample fraction out of range",
        {"CI_PIPELINE_SOURCE": "web", "MLOPS_PIPELINE": "train", "SAMPLE_FRACTION": "2", **token},
        {
            "train": "failure",
            "report-training-failure": "success",
            "report-release-failure": "success",
        },
    )
    filed = [issue["title"] for issue in harness.fake.issues[before:]]
    check(len(filed) == 1 and filed[0].startswith("Training failed"), f"filed: {filed}")
    harness.run(
        "the release by hand of a version that does not exist",
        {"CI_PIPELINE_SOURCE": "web", "MLOPS_PIPELINE": "deploy", "VERSION": "99", **token},
        {"release-bundle-version": "failure", "report-release-failure": "success"},
    )
    harness.run(
        "monitoring without a prediction log",
        {**SCHEDULE, "MONITORING_ENABLED": "true", **token},
        {"monitor": "failure", "report-monitoring-failure": "success"},
    )
    titles = [issue["title"] for issue in harness.fake.issues[before:]]
    for kind in ("Training failed", "Model release failed", "Monitoring failed"):
        check(any(title.startswith(kind) for title in titles), f"no `{kind}` issue: {titles}")


def git(harness: Harness, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(harness.clone), "-c", "user.name=E2E", "-c", "user.email=e2e@example.com",
         *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return completed.stdout.strip()
