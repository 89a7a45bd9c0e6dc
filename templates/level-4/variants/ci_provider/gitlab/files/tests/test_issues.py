"""Automatic bug tracking and the other calls to GitLab, against a fake GitLab API: a real HTTP
server on the loopback interface that keeps issues, pipelines and schedules in memory."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from {{ package_name }} import gitlab, issues
from {{ package_name }}.gitlab import GitLab, GitLabError

PROJECT = "42"
TOKEN = "test-token"
JOB_TOKEN = "job-token"


class FakeGitLab:
    """The part of GitLab's REST API the project uses, for one project."""

    def __init__(self) -> None:
        self.issues: list[dict[str, Any]] = []
        self.notes: list[tuple[int, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.triggered: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []
        self.state: Any = None
        self.fail_with: int | None = None

    def add_issue(self, title: str, description: str, labels: list[str]) -> dict[str, Any]:
        iid = len(self.issues) + 1
        issue = {
            "iid": iid,
            "state": "opened",
            "title": title,
            "description": description,
            "labels": labels,
            "web_url": f"https://gitlab.com/team/project/-/issues/{iid}",
        }
        self.issues.append(issue)
        return issue

    def handle(self, method: str, url: str, headers: Any, body: Any) -> tuple[int, Any]:
        self.requests.append((method, url))
        if self.fail_with:
            return self.fail_with, {"message": "it broke"}
        parts = urlsplit(url)
        prefix = f"/api/v4/projects/{PROJECT}"
        if not parts.path.startswith(prefix):
            return 404, {"message": "404 Project Not Found"}
        path, query = parts.path.removeprefix(prefix), parse_qs(parts.query)
        if path == "/trigger/pipeline" and method == "POST":
            if body.get("token") != JOB_TOKEN:
                return 401, {"message": "401 Unauthorized"}
            self.triggered.append(body)
            return 201, {"id": len(self.triggered), "web_url": "https://gitlab.com/p/-/pipelines/1"}
        if path.startswith("/jobs/artifacts/"):
            if headers.get("JOB-TOKEN") != JOB_TOKEN:
                return 401, {"message": "401 Unauthorized"}
            if self.state is None:
                return 404, {"message": "404 Not Found"}
            return 200, self.state
        if headers.get("PRIVATE-TOKEN") != TOKEN:
            return 401, {"message": "401 Unauthorized"}
        if method == "GET" and path == "/issues":
            label, search = query.get("labels", [""])[0], query.get("search", [""])[0]
            page, per_page = int(query["page"][0]), int(query["per_page"][0])
            found = [
                issue
                for issue in self.issues
                if label in issue["labels"] and search in issue["description"]
            ]
            return 200, found[(page - 1) * per_page : page * per_page]
        if method == "POST" and path == "/issues":
            labels = body.get("labels", "").split(",")
            return 201, self.add_issue(body["title"], body["description"], labels)
        if match := re.fullmatch(r"/issues/(\d+)/notes", path):
            self.notes.append((int(match[1]), body["body"]))
            return 201, {"id": len(self.notes)}
        if method == "PUT" and (match := re.fullmatch(r"/issues/(\d+)", path)):
            issue = self.issues[int(match[1]) - 1]
            if body.get("state_event") == "reopen":
                issue["state"] = "opened"
            return 200, issue
        return self.handle_schedules(method, path, body)

    def handle_schedules(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/pipeline_schedules" and method == "GET":
            return 200, self.schedules
        if path == "/pipeline_schedules" and method == "POST":
            schedule = {**body, "id": len(self.schedules) + 1, "variables": []}
            self.schedules.append(schedule)
            return 201, schedule
        match = re.fullmatch(r"/pipeline_schedules/(\d+)(/variables(?:/(\w+))?)?", path)
        if not match:
            return 404, {"message": "404 Not Found"}
        schedule = self.schedules[int(match[1]) - 1]
        if match[2] is None:
            if method == "PUT":
                schedule.update(body)
            return 200, schedule
        if method == "POST":
            schedule["variables"].append(body)
            return 201, body
        for variable in schedule["variables"]:
            if variable["key"] == match[3]:
                variable.update(body)
        return 200, body


@pytest.fixture
def fake() -> Iterator[tuple[FakeGitLab, str]]:
    """The fake API, served on a free port of 127.0.0.1: (its state, its API URL)."""
    state = FakeGitLab()

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

        do_GET = do_POST = do_PUT = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(fake: tuple[FakeGitLab, str]) -> GitLab:
    return GitLab(PROJECT, TOKEN, JOB_TOKEN, api_url=fake[1])


@pytest.fixture
def ci_environment(fake: tuple[FakeGitLab, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What GitLab sets in a failing job of a training pipeline, pointed at the fake API."""
    environment = {
        "CI_API_V4_URL": fake[1],
        "CI_PROJECT_ID": PROJECT,
        "CI_JOB_TOKEN": JOB_TOKEN,
        "GITLAB_TOKEN": TOKEN,
        "MLOPS_PIPELINE": "train",
        "CI_JOB_NAME": "report-training-failure",
        "CI_JOB_ID": "42",
        "CI_JOB_URL": "https://gitlab.com/team/project/-/jobs/42",
        "CI_COMMIT_REF_NAME": "main",
        "CI_COMMIT_SHA": "0123456789abcdef0123",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


def report(fingerprint: str = "one", title: str = "Training failed") -> issues.BugReport:
    return issues.BugReport(title=title, body="It broke.", fingerprint=fingerprint)


def test_the_same_problem_opens_one_issue_then_comments_on_it(
    fake: tuple[FakeGitLab, str], client: GitLab
) -> None:
    state, _ = fake
    first = issues.file(client, report())
    second = issues.file(client, report())

    assert (first.action, first.number) == ("opened", 1)
    assert (second.action, second.number) == ("updated", 1)
    assert len(state.issues) == 1 and [iid for iid, _ in state.notes] == [1]
    assert state.issues[0]["labels"] == [issues.LABEL]
    assert "<!-- mlops-fingerprint: one -->" in state.issues[0]["description"]


def test_another_problem_opens_another_issue(fake: tuple[FakeGitLab, str], client: GitLab) -> None:
    issues.file(client, report("one"))
    other = issues.file(client, report("two", "Monitoring failed"))
    assert (other.action, other.number) == ("opened", 2)
    assert fake[0].notes == []


def test_a_closed_issue_is_reopened_when_the_problem_comes_back(
    fake: tuple[FakeGitLab, str], client: GitLab
) -> None:
    state, _ = fake
    issues.file(client, report())
    state.issues[0]["state"] = "closed"
    again = issues.file(client, report())
    assert (again.action, again.number) == ("reopened", 1)
    assert state.issues[0]["state"] == "opened" and len(state.issues) == 1


def test_the_fingerprint_is_found_beyond_the_first_page(
    fake: tuple[FakeGitLab, str], client: GitLab
) -> None:
    state, _ = fake
    for index in range(130):
        # Issues that mention the fingerprint without its marker do not count.
        state.add_issue(f"noise {index}", "about needle, not its marker", [issues.LABEL])
    issues.file(client, report("needle"))
    assert issues.file(client, report("needle")).action == "updated"
    assert len(state.issues) == 131
    assert [url for method, url in state.requests if method == "GET" and "page=2" in url]


def test_a_failed_job_files_its_report(
    fake: tuple[FakeGitLab, str], ci_environment: dict[str, str], tmp_path: Path
) -> None:
    state, _ = fake
    gate_report = tmp_path / "gate.md"
    gate_report.write_text("## Gate failed: version 3\n")
    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0
    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0
    assert len(state.issues) == 1 and len(state.notes) == 1
    issue = state.issues[0]
    assert issue["title"] == "Training failed: train"
    assert "https://gitlab.com/team/project/-/jobs/42" in issue["description"]
    assert "`main` at `0123456789ab`" in issue["description"]
    assert "## Gate failed: version 3" in issue["description"]


def test_without_a_token_with_the_api_scope_the_issue_is_printed(
    fake: tuple[FakeGitLab, str],
    ci_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITLAB_TOKEN")
    assert issues.main(["--kind", "monitoring"]) == 0
    assert "no CI_PROJECT_ID or GITLAB_TOKEN" in capsys.readouterr().out
    assert fake[0].requests == []


def test_an_api_error_fails_the_command(
    fake: tuple[FakeGitLab, str],
    ci_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake[0].fail_with = 500
    assert issues.main(["--kind", "training"]) == 1
    assert "HTTP 500" in capsys.readouterr().err


def test_a_bad_token_is_an_error(fake: tuple[FakeGitLab, str]) -> None:
    with pytest.raises(GitLabError, match="HTTP 401"):
        issues.file(GitLab(PROJECT, "wrong", api_url=fake[1]), report())


def test_training_is_triggered_with_the_job_token(
    fake: tuple[FakeGitLab, str], client: GitLab
) -> None:
    done = client.dispatch("train", "main", "drift")
    assert done.startswith("triggered the train pipeline on main")
    assert fake[0].triggered == [
        {
            "token": JOB_TOKEN,
            "ref": "main",
            "variables": {"MLOPS_PIPELINE": "train", "TRAIN_REASON": "drift"},
        }
    ]
    with pytest.raises(GitLabError, match="CI_JOB_TOKEN or TRAIN_TRIGGER_TOKEN"):
        GitLab(PROJECT, TOKEN, api_url=fake[1]).dispatch("train", "main", "drift")


def test_the_state_of_the_previous_monitor_job_is_fetched(
    fake: tuple[FakeGitLab, str],
    ci_environment: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert gitlab.main(["state"]) == 0
    assert not gitlab.STATE.exists()
    fake[0].state = {"fired": ["2026-03-01T12:00:00+00:00"]}
    assert gitlab.main(["state"]) == 0
    assert json.loads(gitlab.STATE.read_text()) == fake[0].state
    fetched = [url for _, url in fake[0].requests if "/jobs/artifacts/main/raw/" in url]
    assert fetched and fetched[-1].endswith("?job=monitor")


def test_the_client_comes_from_the_environment() -> None:
    assert GitLab.from_env({}) is None
    assert GitLab.from_env({"CI_PROJECT_ID": "1"}) is None
    client = GitLab.from_env({"CI_PROJECT_ID": "1", "CI_JOB_TOKEN": "j"})
    assert client == GitLab("1", "", "j", "", "https://gitlab.com/api/v4")
    assert gitlab.tracker_from_env({"CI_PROJECT_ID": "1", "CI_JOB_TOKEN": "j"}) is None
