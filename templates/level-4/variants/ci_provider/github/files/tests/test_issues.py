"""Automatic bug tracking and the other calls to GitHub, against a fake GitHub API: a real HTTP
server on the loopback interface that keeps issues in memory. The monitor's way to GitHub runs
here end to end: a fired policy dispatches training and files its issue through the API."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from {{ package_name }} import issues, monitor, reference
from {{ package_name }}.github import (
    GitHub,
    GitHubError,
    dispatch_workflow,
    enable_workflow,
)
from {{ package_name }}.github import main as github_main
from {{ package_name }}.prediction_log import PredictionLog
from {{ package_name }}.registry import MODEL_NAME
from {{ package_name }}.score import load_model, predict

REPOSITORY = "team/project"
TOKEN = "test-token"
MONITORING = Path(__file__).resolve().parents[1] / "configs" / "monitoring.yaml"


class FakeGitHub:
    """The part of GitHub's REST API the project uses, for one repository."""

    def __init__(self) -> None:
        self.issues: list[dict[str, Any]] = []
        self.comments: list[tuple[int, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.dispatches: list[tuple[str, dict[str, Any]]] = []
        self.enabled: list[str] = []
        self.fail_with: int | None = None

    def add_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        number = len(self.issues) + 1
        issue = {
            "number": number,
            "state": "open",
            "title": title,
            "body": body,
            "labels": labels,
            "html_url": f"https://github.com/{REPOSITORY}/issues/{number}",
        }
        self.issues.append(issue)
        return issue

    def handle(self, method: str, url: str, headers: Any, body: Any) -> tuple[int, Any]:
        self.requests.append((method, url))
        if self.fail_with:
            return self.fail_with, {"message": "it broke"}
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}
        if headers.get("X-GitHub-Api-Version") is None:
            return 400, {"message": "no API version"}
        parts = urlsplit(url)
        prefix = f"/repos/{REPOSITORY}"
        if not parts.path.startswith(prefix):
            return 404, {"message": "Not Found"}
        path, query = parts.path.removeprefix(prefix), parse_qs(parts.query)
        if method == "GET" and path == "/issues":
            label = query.get("labels", [""])[0]
            page, per_page = int(query["page"][0]), int(query["per_page"][0])
            found = [issue for issue in self.issues if label in issue["labels"]]
            return 200, found[(page - 1) * per_page : page * per_page]
        if method == "POST" and path == "/issues":
            return 201, self.add_issue(body["title"], body["body"], body.get("labels", []))
        if match := re.fullmatch(r"/issues/(\d+)/comments", path):
            self.comments.append((int(match[1]), body["body"]))
            return 201, {"id": len(self.comments)}
        if method == "PATCH" and (match := re.fullmatch(r"/issues/(\d+)", path)):
            issue = self.issues[int(match[1]) - 1]
            issue.update(body)
            return 200, issue
        workflow = re.fullmatch(r"/actions/workflows/([^/]+)/(dispatches|enable)", path)
        if workflow and (method, workflow[2]) == ("POST", "dispatches"):
            self.dispatches.append((workflow[1], body))
            return 204, None
        if workflow and (method, workflow[2]) == ("PUT", "enable"):
            self.enabled.append(workflow[1])
            return 204, None
        return 404, {"message": "Not Found"}


@pytest.fixture
def fake() -> Iterator[tuple[FakeGitHub, str]]:
    """The fake API, served on a free port of 127.0.0.1: (its state, its URL)."""
    state = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, content = state.handle(self.command, self.path, self.headers, body)
            data = b"" if content is None else json.dumps(content).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def github(fake: tuple[FakeGitHub, str]) -> GitHub:
    return GitHub(REPOSITORY, TOKEN, fake[1])


@pytest.fixture
def ci_environment(fake: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What GitHub Actions sets in a failing Train run, pointed at the fake API."""
    environment = {
        "GITHUB_API_URL": fake[1],
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_WORKFLOW": "Train",
        "GITHUB_JOB": "train",
        "GITHUB_RUN_ID": "42",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": "0123456789abcdef0123",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


def report(fingerprint: str = "one", title: str = "Training failed") -> issues.BugReport:
    return issues.BugReport(title=title, body="It broke.", fingerprint=fingerprint)


def test_the_same_problem_opens_one_issue_then_comments_on_it(
    fake: tuple[FakeGitHub, str], github: GitHub
) -> None:
    state, _ = fake
    first = issues.file(github, report())
    second = issues.file(github, report())
    third = issues.file(github, report())

    assert first.action == "opened" and first.number == 1
    assert (second.action, second.number) == ("updated", 1)
    assert (third.action, third.number) == ("updated", 1)
    assert len(state.issues) == 1
    assert [number for number, _ in state.comments] == [1, 1]
    issue = state.issues[0]
    assert issue["labels"] == [issues.LABEL]
    assert "<!-- mlops-fingerprint: one -->" in issue["body"]


def test_another_problem_opens_another_issue(fake: tuple[FakeGitHub, str], github: GitHub) -> None:
    state, _ = fake
    issues.file(github, report("one"))
    other = issues.file(github, report("two", "Monitoring failed"))
    assert other.action == "opened" and other.number == 2
    assert len(state.issues) == 2 and state.comments == []


def test_a_closed_issue_is_reopened_when_the_problem_comes_back(
    fake: tuple[FakeGitHub, str], github: GitHub
) -> None:
    state, _ = fake
    issues.file(github, report())
    state.issues[0]["state"] = "closed"
    again = issues.file(github, report())
    assert (again.action, again.number) == ("reopened", 1)
    assert state.issues[0]["state"] == "open" and len(state.issues) == 1
    assert state.comments[0][0] == 1


def test_the_fingerprint_is_found_beyond_the_first_page(
    fake: tuple[FakeGitHub, str], github: GitHub
) -> None:
    state, _ = fake
    for index in range(130):
        noise = report(f"noise-{index}")
        state.add_issue(noise.title, noise.issue_body(), [issues.LABEL])
    issues.file(github, report("needle"))
    assert issues.file(github, report("needle")).action == "updated"
    assert len(state.issues) == 131
    pages = [url for method, url in state.requests if method == "GET" and "page=2" in url]
    assert pages


def test_a_failed_run_files_its_report(
    fake: tuple[FakeGitHub, str],
    ci_environment: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, _ = fake
    gate_report = tmp_path / "gate.md"
    gate_report.write_text("## Gate failed: version 3\n")

    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0
    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0

    assert len(state.issues) == 1 and len(state.comments) == 1
    issue = state.issues[0]
    assert issue["title"] == "Training failed: Train"
    assert "https://github.com/team/project/actions/runs/42" in issue["body"]
    assert "`main` at `0123456789ab`" in issue["body"]
    assert "## Gate failed: version 3" in issue["body"]
    assert "issue #1 updated" in capsys.readouterr().out
    # The same kind of failure in another workflow is another problem.
    train = issues.failure_report("training", ci_environment)
    deploy = issues.failure_report("training", {**ci_environment, "GITHUB_WORKFLOW": "Deploy"})
    assert train.fingerprint != deploy.fingerprint


def test_a_dry_run_prints_the_issue_and_sends_nothing(
    fake: tuple[FakeGitHub, str],
    ci_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, _ = fake
    assert issues.main(["--kind", "release", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert state.requests == []
    assert "dry run (--dry-run)" in printed
    assert "title: Model release failed: Train" in printed
    assert f"labels: {issues.LABEL}" in printed
    assert "<!-- mlops-fingerprint:" in printed


def test_without_a_token_the_issue_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert issues.main(["--kind", "monitoring"]) == 0
    printed = capsys.readouterr().out
    assert "no GITHUB_TOKEN or GITHUB_REPOSITORY" in printed
    assert "The run left no report" in printed


def test_an_api_error_fails_the_command(
    fake: tuple[FakeGitHub, str],
    ci_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake[0].fail_with = 500
    assert issues.main(["--kind", "training"]) == 1
    assert "HTTP 500" in capsys.readouterr().err


def test_a_bad_token_is_an_error(fake: tuple[FakeGitHub, str]) -> None:
    with pytest.raises(GitHubError, match="HTTP 401"):
        issues.file(GitHub(REPOSITORY, "wrong", fake[1]), report())


def test_a_long_report_is_cut_to_what_github_accepts() -> None:
    assert issues.MAX_BODY < 65_536
    body = issues.BugReport("t", "x" * 100_000, "f").issue_body()
    assert len(body) < 65_536 and body.rstrip().endswith("<!-- mlops-fingerprint: f -->")


def test_training_is_dispatched_and_the_schedule_kept_alive(
    fake: tuple[FakeGitHub, str], github: GitHub, ci_environment: dict[str, str]
) -> None:
    state, _ = fake
    dispatch_workflow(github, "train.yml", "main", {"reason": "drift"})
    assert state.dispatches == [("train.yml", {"ref": "main", "inputs": {"reason": "drift"}})]
    enable_workflow(github, "monitor.yml")
    assert github_main(["keepalive", "--workflow", "monitor.yml"]) == 0
    assert state.enabled == ["monitor.yml", "monitor.yml"]


def test_the_client_comes_from_the_environment() -> None:
    assert GitHub.from_env({}) is None
    assert GitHub.from_env({"GITHUB_TOKEN": "t"}) is None
    client = GitHub.from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "o/r"})
    assert client == GitHub("o/r", "t", "https://api.github.com")


@pytest.fixture
def drifted_traffic(tmp_path: Path, model_path: Path, dataset: pd.DataFrame) -> list[str]:
    """A prediction log of 800 rows whose features moved, with the model's training reference:
    the arguments of `make monitor` that fire the shipped policy."""
    model = load_model(model_path)
    features = dataset[model.features]
    reference.save(reference.build(features, model.model.predict(features)), tmp_path / "ref.json")
    moved = features.sample(800, replace=True, random_state=0).reset_index(drop=True)
    columns = list(moved.columns[: len(moved.columns) // 3])
    moved[columns] = moved[columns] + 1.5 * features[columns].std()
    scored = predict(model, moved)
    PredictionLog(tmp_path / "predictions.jsonl").record(
        key="customer",
        variant="champion",
        model_version="1",
        model_sha256=model.sha256,
        rows=moved.to_dict(orient="records"),
        predictions=scored.predictions,
{%- if is_classification %}
        probabilities=scored.probabilities,
{%- endif %}
        latency_ms=1.0,
    )
    return [
        "--config",
        str(MONITORING),
        "--predictions",
        str(tmp_path / "predictions.jsonl"),
        "--dispatch",
        "github",
    ]


def test_a_fired_policy_dispatches_training_and_files_its_issue_on_github(
    fake: tuple[FakeGitHub, str],
    ci_environment: dict[str, str],
    drifted_traffic: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`make monitor` as the scheduled workflow runs it, with the workflow's token."""
    state, _ = fake
    monkeypatch.setenv("MONITORING_REFERENCE", str(tmp_path / "ref.json"))
    monkeypatch.chdir(tmp_path)

    assert monitor.main(drifted_traffic) == monitor.EXIT_OK

    ((workflow, body),) = state.dispatches
    assert (workflow, body["ref"]) == ("train.yml", "main")
    assert "the retraining policy fired for version 1" in body["inputs"]["reason"]
    (issue,) = state.issues
    title = f"Retraining triggered: `{MODEL_NAME}` version 1 degraded in production"
    assert issue["title"] == title
    assert f"dispatched train.yml on main in {REPOSITORY}" in issue["body"]
    assert issue["labels"] == [issues.LABEL]
    assert f"issue #1 opened: {title}" in capsys.readouterr().out

    # A day later, past the cooldown, the same version fires again: the same issue is updated.
    config = monitor.load_config(MONITORING)
    github = GitHub.from_env()
    _, status = monitor.run(
        config,
        str(tmp_path / "predictions.jsonl"),
        None,
        dispatcher=monitor.dispatcher_for(config, github),
        tracker=github,
        profile_of=monitor.reference_loader(config),
        now=datetime.now(UTC) + timedelta(hours=25),
    )
    assert status == monitor.EXIT_OK
    assert len(state.dispatches) == 2 and len(state.issues) == 1
    assert [number for number, _ in state.comments] == [1]


def test_when_github_refuses_the_monitor_fails_and_says_so(
    fake: tuple[FakeGitHub, str],
    ci_environment: dict[str, str],
    drifted_traffic: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake[0].fail_with = 500
    monkeypatch.setenv("MONITORING_REFERENCE", str(tmp_path / "ref.json"))
    monkeypatch.chdir(tmp_path)

    assert monitor.main(drifted_traffic) == monitor.EXIT_FAILED

    printed = capsys.readouterr()
    assert "could not dispatch training" in printed.out and "HTTP 500" in printed.out
    assert "the issue could not be filed" in printed.err
