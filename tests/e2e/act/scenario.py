"""What the workflows of each level must do, run after run, and what each run must leave behind.

The runs follow a project's life on GitHub, each job of each workflow at least once:

- level 1: a pull request (CI) and a tag (Release);
- level 2: model CI on a pull request, a Train run and the manual release of its version from the
  Train run's registry artifact (Release model), without an MLflow server;
- level 3: the automatic release that a Train run of the default branch starts (Deploy model,
  from the artifact) and that a Train run of another branch does not; then, with the team's
  MLflow server as the secret MLFLOW_TRACKING_URI, a version released by hand, a second one
  released automatically, and the rollback to the first;
- level 4, with the server from the start: the scheduled Monitor before monitoring is switched
  on (no job runs), then on production's drifted traffic, dispatching the Train run that ships
  the next version, and once more with the state of its previous run; a failed Train run and a
  failed release, which file their issues.

Each level's flow is cut to what its jobs need, since the levels below have run the rest.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import urllib.request
from itertools import cycle, islice
from typing import Any

from workflows import (
    REGISTRY,
    Harness,
    Run,
    check,
    free_port,
    mlflow_server,
    registry_state,
    wait_for,
)


def scenario(harness: Harness) -> None:
    pull_request(harness)
    if harness.level <= 3:
        tag_release(harness)
    if harness.level == 2:
        model_ci(harness)
        train = training(harness, "without an MLflow server")
        release_by_hand(harness, "1", train)
    if harness.level == 3:
        model_ci(harness)
        deploy_from_the_artifact(harness)
        with mlflow_server(harness) as server:
            releases_and_rollback(harness, server)
    if harness.level >= 4:
        model_ci(harness)
        monitoring_unconfigured(harness)
        with mlflow_server(harness) as server:
            releases_and_rollback(harness, server)
        failures_file_issues(harness)


def pull_request(harness: Harness) -> None:
    event = harness.event(
        "pull_request",
        number=1,
        pull_request={
            "number": 1,
            "head": {"ref": "feature", "sha": harness.head, "repo": {"full_name": "e2e/demo"}},
            "base": {"ref": "main", "sha": harness.head, "repo": {"full_name": "e2e/demo"}},
        },
    )
    ci = harness.run("ci.yml", "pull_request", event, BUILT)
    check(not harness.pushed(ci), f"CI pushed {harness.pushed(ci)}")
    check(harness.built(ci) == [["demo:dev"]], f"CI built {harness.built(ci)}")


def tag_release(harness: Harness, secrets: dict[str, str] | None = None) -> None:
    """A tag: the application's image, with the model of the champion (from level 3, trained in
    the job without a server, bundled from the server's registry with one)."""
    subprocess.run(["git", "-C", str(harness.origin), "tag", "v0.1.0"], check=True)
    try:
        release = harness.run(
            "release.yml",
            "push",
            harness.event("push", ref="refs/tags/v0.1.0", after=harness.head),
            BUILT,
            secrets=secrets,
            what="the tag v0.1.0" + (", with the MLflow server" if secrets else ""),
        )
    finally:
        subprocess.run(
            ["git", "-C", str(harness.origin), "tag", "-d", "v0.1.0"],
            check=True,
            capture_output=True,
        )
    if release.succeeded:
        pushed = harness.pushed(release)
        wanted = {f"{REGISTRY}:0.1.0", f"{REGISTRY}:sha-{harness.head[:7]}"}
        check(set(pushed) == wanted, f"Release pushed {pushed}, not {sorted(wanted)}")
    if secrets:
        check(
            "bundle: version 1 exported" in release.output(),
            "the image's model is not the champion",
        )


BUILT = {"test": "success", "image": "success"}


def model_ci(harness: Harness) -> None:
    pull_request = harness.event(
        "pull_request",
        number=2,
        pull_request={
            "number": 2,
            "head": {"ref": "model-change", "sha": harness.head},
            "base": {"ref": "main", "sha": harness.head},
        },
    )
    run = harness.run("model-ci.yml", "pull_request", pull_request, {"train-and-gate": "success"})
    metrics = harness.artifact(run, "model-metrics")
    check((metrics / "gate.md").is_file(), f"model-metrics: {sorted(os.listdir(metrics))}")


def training(
    harness: Harness,
    what: str,
    secrets: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
) -> Run:
    run = harness.run(
        "train.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch", inputs=inputs or {"sample-fraction": "1"}),
        {"compute": "success", "train": "success"},
        secrets=secrets,
        what=what,
    )
    report = json.loads((harness.artifact(run, "training-report") / "gate.json").read_text())
    check(report["passed"], f"Train's gate report: {report}")
    if not secrets:
        state = registry_state(harness.artifact(run, "mlflow-registry") / "mlflow.db")
        check(state["aliases"].get("candidate") == "1", f"Train's registry: {state}")
    return run


def release_by_hand(
    harness: Harness, version: str, train: Run | None, secrets: dict[str, str] | None = None
) -> None:
    inputs = {"version": version, "training-run": str(train.run_id) if train else ""}
    where = f"from Train run {train.run_id}'s registry" if train else "on the MLflow server"
    promoted = harness.run(
        "release-model.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch", inputs=inputs),
        {"promote": "success"},
        secrets=secrets,
        what=f"version {version}, {where}",
    )
    if train:
        state = registry_state(harness.artifact(promoted, "mlflow-registry") / "mlflow.db")
        check(state["aliases"].get("champion") == version, f"Release model: {state}")


def workflow_run(harness: Harness, train: Run, branch: str = "main") -> dict[str, Any]:
    return harness.event(
        "workflow_run",
        action="completed",
        workflow_run={
            "id": train.run_id,
            "name": "Train",
            "event": "workflow_dispatch",
            "status": "completed",
            "conclusion": "success",
            "head_branch": branch,
            "head_sha": harness.head,
            "head_repository": {"full_name": "e2e/demo"},
            "repository": {"full_name": "e2e/demo"},
        },
        workflow={"name": "Deploy model", "path": ".github/workflows/deploy-model.yml"},
    )


DEPLOYED = {"staging": "success", "production": "success"}


def deploy(
    harness: Harness, train: Run, version: str, secrets: dict[str, str] | None = None
) -> Run:
    run = harness.run(
        "deploy-model.yml",
        "workflow_run",
        workflow_run(harness, train),
        DEPLOYED,
        secrets=secrets,
        what=f"after Train run {train.run_id} of main",
    )
    if run.succeeded:
        pushed = harness.pushed(run)
        wanted = [f"{REGISTRY}:model-v{version}", f"{REGISTRY}:champion"]
        check(pushed == wanted, f"Deploy model pushed {pushed}, not {wanted}")
        report = harness.artifact(run, "release-report") / "deployments.jsonl"
        outcomes = [json.loads(line)["outcome"] for line in report.read_text().splitlines()]
        check(outcomes[-2:] == ["release-tests-passed", "promoted"], f"deployments: {outcomes}")
    return run


def deploy_from_the_artifact(harness: Harness) -> None:
    """Without a server: the Train run's registry artifact is released, and uploaded again."""
    train = training(harness, "without an MLflow server")
    run = deploy(harness, train, "1")
    if run.succeeded:
        state = registry_state(harness.artifact(run, "mlflow-registry") / "mlflow.db")
        check(state["aliases"].get("champion") == "1", f"Deploy model's registry: {state}")
    # A Train run of any other branch (a change nobody reviewed) releases nothing.
    harness.run(
        "deploy-model.yml",
        "workflow_run",
        workflow_run(harness, train, branch="unreviewed"),
        {},
        what="after a Train run of the branch `unreviewed`",
    )


def releases_and_rollback(harness: Harness, server: str) -> None:
    """Version 1 released by hand; at level 4, production's traffic drifts and the Monitor
    dispatches the Train run of version 2; version 2 released automatically, then rolled back;
    at level 4 the Monitor runs again, with the state of its previous run."""
    secrets = {"MLFLOW_TRACKING_URI": server}
    database = harness.work / "mlflow-server" / "mlflow.db"
    training(harness, "version 1, on the MLflow server", secrets)
    release_by_hand(harness, "1", None, secrets)
    check(registry_state(database)["aliases"].get("champion") == "1", "version 1 was not released")
    if harness.level >= 4:
        tag_release(harness, secrets)
    dispatched = None
    if harness.level >= 4:
        dispatched = monitoring_fires(harness, server)
    what = "as the Monitor dispatched it" if dispatched else "version 2, on the MLflow server"
    train = training(harness, what, secrets, dispatched)
    deploy(harness, train, "2", secrets)
    state = registry_state(database)
    check(state["aliases"].get("champion") == "2", f"version 2 is not the champion: {state}")
    check(
        state["tags"]["2"].get("previous_champion") == "1", f"version 2 did not replace 1: {state}"
    )
    harness.run(
        "rollback-model.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch", inputs={"to": "", "registry-run": ""}),
        {"rollback": "success"},
        secrets=secrets,
    )
    state = registry_state(database)
    check(
        state["aliases"].get("champion") == "1", f"the rollback did not restore version 1: {state}"
    )
    if harness.level >= 4:
        monitoring_cools_down(harness, server)
        harness.run(
            "deploy-model.yml",
            "workflow_run",
            workflow_run(harness, train, branch="unreviewed"),
            {},
            secrets=secrets,
            what="after a Train run of the branch `unreviewed`",
        )


MONITORING = {"MONITORING_ENABLED": "true"}
MONITORED = {"monitor": "success", "keepalive": "success"}


def monitoring_secrets(harness: Harness, server: str) -> dict[str, str]:
    files = f"{harness.api_url}/e2e/files"
    return {
        "MLFLOW_TRACKING_URI": server,
        "PREDICTION_LOG": f"{files}/predictions.jsonl",
        "FEEDBACK_LOG": f"{files}/feedback.jsonl",
    }


def monitoring_unconfigured(harness: Harness) -> None:
    """Before anyone switches monitoring on, the schedule runs no job: nothing is billed."""
    harness.run("monitor.yml", "schedule", harness.event("schedule", schedule="17 3 * * *"), {})


def monitoring_fires(harness: Harness, server: str) -> dict[str, str]:
    """Production's traffic drifts; the Monitor finds it, dispatches Train through the API with
    the reason, files the issue of the version and keeps its schedule alive. Returns the inputs
    it dispatched Train with."""
    production_traffic(harness, server)
    run = harness.run(
        "monitor.yml",
        "schedule",
        harness.event("schedule", schedule="17 3 * * *"),
        MONITORED,
        secrets=monitoring_secrets(harness, server),
        variables=MONITORING,
        what="switched on; production's traffic has drifted",
    )
    fake = harness.fake
    check(len(fake.dispatches) == 1, f"the Monitor dispatched {fake.dispatches}, not one Train run")
    dispatch = fake.dispatches[0]
    check(
        dispatch["workflow"] == "train.yml"
        and dispatch["ref"] == "main"
        and dispatch["inputs"].get("reason"),
        f"the Monitor's dispatch: {dispatch}",
    )
    check("monitor.yml" in fake.enabled, f"the keep-alive enabled {fake.enabled}")
    check(fake.issues, "the Monitor filed no issue")
    state = harness.artifact(run, "monitoring-state")
    check((state / "state.json").is_file(), f"monitoring-state: {sorted(os.listdir(state))}")
    return {key: str(value) for key, value in dispatch["inputs"].items()}


def monitoring_cools_down(harness: Harness, server: str) -> None:
    """The next Monitor run finds the state of the previous one and holds: the policy cools
    down."""
    run = harness.run(
        "monitor.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch"),
        MONITORED,
        secrets=monitoring_secrets(harness, server),
        variables=MONITORING,
        what="again, by hand",
    )
    check(len(harness.fake.dispatches) == 1, f"dispatched again: {harness.fake.dispatches}")
    check("cooling down until" in run.output(), "the Monitor did not read its previous state")


def production_traffic(harness: Harness, server: str) -> None:
    """The champion, served by the application on loopback, answers traffic whose features have
    all moved by three standard deviations, and receives its true labels: the logs production
    ships, served under /e2e/files/ of the fake API."""
    files = harness.work / "files"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "MODEL_URI": "models:/demo@champion",
        "MLFLOW_TRACKING_URI": server,
        "CHALLENGER_URI": "",
        "PREDICTION_LOG": str(files / "predictions.jsonl"),
        "FEEDBACK_LOG": str(files / "feedback.jsonl"),
        "PYTHONPATH": str(harness.origin / "src"),
        # It listens on loopback and is told so, as `make serve` does, so it takes labels
        # without a token (access.py).
        "UVICORN_HOST": "127.0.0.1",
    }
    python = str(harness.env / "bin" / "python")
    command = [python, "-m", "uvicorn", "demo.app:app", "--port", str(port)]
    with open(harness.work / "app.log", "w") as log:
        app = subprocess.Popen(
            command, cwd=harness.origin, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for(f"{url}/ready", app)
            with open(harness.project / "data" / "raw" / "dataset.csv") as file:
                rows = list(csv.DictReader(file))
            features = [name for name in rows[0] if name != "target"]
            spread = {
                name: statistics.pstdev(float(row[name]) for row in rows) for name in features
            }
            traffic = list(islice(cycle(rows), 800))
            labels = []
            for start in range(0, len(traffic), 200):
                batch = traffic[start : start + 200]
                shifted = [{n: float(r[n]) + 3 * spread[n] for n in features} for r in batch]
                answer = post(f"{url}/predict", {"rows": shifted})
                labels += [
                    {"prediction_id": prediction, "label": int(float(row["target"]))}
                    for prediction, row in zip(answer["prediction_ids"], batch, strict=True)
                ]
            post(f"{url}/feedback", {"labels": labels})
        finally:
            app.terminate()
            app.wait(timeout=30)
    print(f"production traffic: {len(traffic)} drifted predictions and their labels", flush=True)


def post(url: str, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


RELEASE_FAILED = {"staging": "failure", "report-failure": "success"}


def failures_file_issues(harness: Harness) -> None:
    """A failed Train run and a failed release each file the issue of their failure."""
    before = len(harness.fake.issues)
    harness.run(
        "train.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch", inputs={"sample-fraction": "2", "reason": ""}),
        {"compute": "success", "train": "failure", "report-failure": "success"},
        what="a sample fraction out of range",
    )
    harness.run(
        "deploy-model.yml",
        "workflow_dispatch",
        harness.event("workflow_dispatch", inputs={"version": "99", "training-run": ""}),
        RELEASE_FAILED,
        what="a version that does not exist",
    )
    titles = [issue["title"] for issue in harness.fake.issues[before:]]
    check(any(t.startswith("Training failed") for t in titles), f"no training issue: {titles}")
    check(any(t.startswith("Model release failed") for t in titles), f"no release issue: {titles}")
    check(not harness.fake.unexpected, f"unexpected calls to GitHub: {harness.fake.unexpected}")
