"""What the Azure pipelines of each level must do, run after run, and what each must leave
behind: the life of a project on Azure DevOps, each job at least once.

- level 1: a pull request (CI: tests, the image built) and a tag (CI: the image pushed);
- level 2: Model CI on a pull request, a Train run without an MLflow server and the release of
  its version by hand from that run's registry artifact (Release model);
- level 3: the Deploy model run that a Train run on main starts, from the Train run's registry
  artifact; then, with the team's MLflow server, a second release, the tag's image of the
  champion and the rollback;
- level 4, with the server: Monitor before it is switched on (its stage skipped), then on
  production's drifted traffic, running Train through the REST API, whose run ships the next
  version, and once more with the state of its previous run; a failed training, release and
  monitoring run, each filing its work item.
"""

from __future__ import annotations

import json
import os
from typing import Any

from workflows import check

from pipelines import REGISTRY, Harness, Run


def scenario(harness: Harness, mlflow_server: Any, registry_state: Any) -> None:
    pull_request(harness)
    if harness.level <= 2:
        tag(harness)
    if harness.level >= 2:
        model_ci(harness)
        train = training(harness, "without an MLflow server")
        release_by_hand(harness, train, registry_state)
    if harness.level >= 3:
        deploy(harness, train, "1")
        with mlflow_server(harness) as server:
            with_a_server(harness, server, registry_state)
            # The failures ask the team's server too: a stopped one would be retried for minutes.
            if harness.level >= 4:
                failures_file_work_items(harness)
    if harness.level >= 4:
        check(not harness.fake.unexpected, f"unexpected calls: {harness.fake.unexpected}")


def pull_request(harness: Harness) -> None:
    run = harness.run(
        "CI", "PullRequest", {"test": "succeeded", "image": "succeeded"},
        branch="refs/pull/1/merge",
    )  # fmt: skip
    built = [entry["tags"] for entry in run.recorded("built")]
    check(built == [["demo:dev"]], f"CI built {built}")
    check(not run.recorded("pushed"), f"CI pushed {run.recorded('pushed')}")


def tag(harness: Harness) -> None:
    run = harness.run(
        "CI", "IndividualCI", {"test": "succeeded", "release": "succeeded"},
        branch="refs/tags/v0.1.0", what="the tag v0.1.0",
    )  # fmt: skip
    pushed = [entry["image"] for entry in run.recorded("pushed")]
    short = run.log and [line for line in run.log if "sha-" in line]
    check(len(pushed) == 2 and pushed[0] == f"{REGISTRY}/demo:0.1.0", f"the tag pushed {pushed}")
    check(bool(short), "no image tagged with the commit")


def model_ci(harness: Harness) -> None:
    run = harness.run(
        "Model CI", "PullRequest", {"__default": "succeeded"}, branch="refs/pull/2/merge"
    )
    check((run.artifact("model-metrics") / "gate.md").is_file(), "Model CI kept no gate report")


def training(harness: Harness, what: str, parameters: dict[str, Any] | None = None) -> Run:
    run = harness.run("Train", "Manual", {"train": "succeeded"}, parameters=parameters, what=what)
    gate = json.loads((run.artifact("training-report") / "gate.json").read_text())
    check(gate["passed"], f"the gate: {gate}")
    return run


def release_by_hand(harness: Harness, train: Run, registry_state: Any) -> None:
    run = harness.run(
        "Release model", "Manual", {"promote": "succeeded"},
        parameters={"version": "1", "trainingRun": str(train.run_id)},
        what=f"version 1 from Train run {train.run_id}'s registry",
    )  # fmt: skip
    state = registry_state(run.artifact("mlflow-registry") / "mlflow.db")
    check(state["aliases"].get("champion") == "1", f"Release model's registry: {state}")


DEPLOYED = {"staging": "succeeded", "production": "succeeded"}


def deploy(harness: Harness, train: Run, version: str, expect: dict[str, str] = DEPLOYED) -> Run:
    run = harness.run(
        "Deploy model", "ResourceTrigger", expect, resource=train,
        what=f"after Train run {train.run_id} of {train.branch}",
    )  # fmt: skip
    if run.succeeded and expect == DEPLOYED:
        pushed = [entry["image"] for entry in run.recorded("pushed")]
        wanted = [f"{REGISTRY}/demo:model-v{version}", f"{REGISTRY}/demo:champion"]
        check(pushed == wanted, f"Deploy model pushed {pushed}, not {wanted}")
        report = run.artifact("release-report") / "deployments.jsonl"
        outcomes = [json.loads(line)["outcome"] for line in report.read_text().splitlines()]
        check(outcomes[-2:] == ["release-tests-passed", "promoted"], f"deployments: {outcomes}")
    return run


def with_a_server(harness: Harness, server: str, registry_state: Any) -> None:
    for group in ("mlflow-staging", "mlflow-production", "monitoring"):
        harness.groups[group]["MLFLOW_TRACKING_URI"] = server
    database = harness.work / "mlflow-server" / "mlflow.db"
    train = training(harness, "version 1, on the MLflow server")
    deploy(harness, train, "1")
    check(registry_state(database)["aliases"].get("champion") == "1", "version 1 not released")
    harness.run(
        "CI", "IndividualCI", {"test": "succeeded", "release": "succeeded"},
        branch="refs/tags/v0.1.0", what="the tag v0.1.0, with the MLflow server",
    )  # fmt: skip
    parameters: dict[str, Any] = {}
    if harness.level >= 4:
        parameters = monitoring_fires(harness, server)
    train = training(harness, "version 2", parameters)
    deploy(harness, train, "2")
    state = registry_state(database)
    check(state["aliases"].get("champion") == "2", f"version 2 is not the champion: {state}")
    check(state["tags"]["2"].get("previous_champion") == "1", f"2 did not replace 1: {state}")
    # A Train run of another branch releases nothing.
    other = harness.run("Train", "Manual", {"train": "succeeded"}, branch="refs/heads/unreviewed")
    deploy(harness, other, "-", {})
    harness.run("Roll back model", "Manual", {"rollback": "succeeded"})
    state = registry_state(database)
    check(state["aliases"].get("champion") == "1", f"the rollback did not restore 1: {state}")
    if harness.level >= 4:
        monitoring_cools_down(harness)


def switched_on(harness: Harness) -> dict[str, str]:
    files = f"{harness.collection.rsplit('/', 2)[0]}/e2e/files"
    harness.groups["monitoring"].update(
        {"PREDICTION_LOG": f"{files}/predictions.jsonl", "FEEDBACK_LOG": f"{files}/feedback.jsonl"}
    )
    return {"MONITORING_ENABLED": "true"}


def monitoring_fires(harness: Harness, server: str) -> dict[str, str]:
    from scenario import production_traffic

    harness.run("Monitor", "Schedule", {}, what="before monitoring is switched on")
    production_traffic(harness, server)
    harness.run(
        "Monitor", "Schedule", {"monitor": "succeeded"}, variables=switched_on(harness),
        what="switched on; production's traffic has drifted",
    )  # fmt: skip
    fake = harness.fake
    check(len(fake.runs) == 1 and fake.runs[0]["pipeline"] == "Train", f"runs: {fake.runs}")
    reason = fake.runs[0]["templateParameters"]["reason"]
    check(reason.startswith("the retraining policy fired"), f"the reason: {reason}")
    check(
        any(i["fields"]["System.Title"].startswith("Retraining triggered") for i in fake.items),
        "no work item",
    )
    return {"reason": reason}


def monitoring_cools_down(harness: Harness) -> None:
    run = harness.run(
        "Monitor", "Schedule", {"monitor": "succeeded"}, variables=switched_on(harness),
        what="again, with the state of the previous run",
    )  # fmt: skip
    check(len(harness.fake.runs) == 1, f"ran Train again: {harness.fake.runs}")
    check("cooling down until" in run.output(), "Monitor did not read its previous state")


def failures_file_work_items(harness: Harness) -> None:
    before = len(harness.fake.items)
    harness.run(
        "Train", "Manual", {"train": "failed", "report_failure": "succeeded"},
        parameters={"sampleFraction": "2"}, what="a sample fraction out of range",
    )  # fmt: skip
    harness.run(
        "Deploy model", "Manual", {"staging": "failed", "report_failure": "succeeded"},
        parameters={"version": "99"}, what="a version that does not exist",
    )  # fmt: skip
    harness.groups["monitoring"].pop("PREDICTION_LOG", None)
    harness.run(
        "Monitor", "Manual", {"monitor": "failed"}, variables={"MONITORING_ENABLED": "true"},
        what="without a prediction log",
    )  # fmt: skip
    titles = [item["fields"]["System.Title"] for item in harness.fake.items[before:]]
    for kind in ("Training failed", "Model release failed", "Monitoring failed"):
        check(any(title.startswith(kind) for title in titles), f"no `{kind}` work item: {titles}")
    check(os.environ.get("SYSTEM_ACCESSTOKEN") is None, "the token leaked into the runner")
