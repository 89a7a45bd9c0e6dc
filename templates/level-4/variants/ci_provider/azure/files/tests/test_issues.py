"""Automatic bug tracking and the other calls to Azure DevOps, against a fake Azure DevOps API: a
real HTTP server on the loopback interface that keeps work items and pipeline runs in memory."""

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

from {{ package_name }} import azure, issues
from {{ package_name }}.azure import AzureDevOps, AzureDevOpsError

PROJECT = "project"
TOKEN = "test-token"


class FakeAzureDevOps:
    """The part of the Azure DevOps REST API the project uses, for one project."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.comments: list[tuple[int, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.runs: list[tuple[int, dict[str, Any]]] = []
        self.fail_with: int | None = None

    def add_item(self, fields: dict[str, Any]) -> dict[str, Any]:
        item = {"id": len(self.items) + 1, "fields": {"System.State": "New", **fields}}
        self.items.append(item)
        return item

    def handle(self, method: str, url: str, headers: Any, body: Any) -> tuple[int, Any]:
        self.requests.append((method, url))
        if self.fail_with:
            return self.fail_with, {"message": "it broke"}
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "TF400813: not authorized"}
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = f"/team/{PROJECT}/_apis/"
        if not parts.path.startswith(prefix) or "api-version" not in query:
            return 404, {"message": "not found"}
        path = parts.path.removeprefix(prefix)
        if path == "wit/wiql" and method == "POST":
            tags = re.findall(r"\[System.Tags\] CONTAINS '([^']+)'", body["query"])
            found = [
                {"id": item["id"]}
                for item in reversed(self.items)
                if all(tag in item["fields"]["System.Tags"].split("; ") for tag in tags)
            ]
            return 200, {"workItems": found}
        if path == "wit/workitems" and method == "GET":
            ids = [int(each) for each in query["ids"][0].split(",")]
            return 200, {"value": [self.items[each - 1] for each in ids]}
        if (match := re.fullmatch(r"wit/workitems/\$(\w+)", path)) and method == "POST":
            assert headers.get("Content-Type") == "application/json-patch+json"
            fields = {op["path"].removeprefix("/fields/"): op["value"] for op in body}
            return 200, self.add_item({**fields, "System.WorkItemType": match[1]})
        if (match := re.fullmatch(r"wit/workitems/(\d+)", path)) and method == "PATCH":
            item = self.items[int(match[1]) - 1]
            item["fields"].update({op["path"].removeprefix("/fields/"): op["value"] for op in body})
            return 200, item
        if (match := re.fullmatch(r"wit/workItems/(\d+)/comments", path)) and method == "POST":
            self.comments.append((int(match[1]), body["text"]))
            return 200, {"id": len(self.comments)}
        if path == "pipelines" and method == "GET":
            return 200, {"value": [{"id": 7, "name": "Train"}, {"id": 8, "name": "Monitor"}]}
        if (match := re.fullmatch(r"pipelines/(\d+)/runs", path)) and method == "POST":
            self.runs.append((int(match[1]), body))
            return 200, {"id": 100 + len(self.runs)}
        return 404, {"message": "not found"}


@pytest.fixture
def fake() -> Iterator[tuple[FakeAzureDevOps, str]]:
    """The fake API, served on a free port of 127.0.0.1: (its state, its collection URI)."""
    state = FakeAzureDevOps()

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

        do_GET = do_POST = do_PATCH = answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/team/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(fake: tuple[FakeAzureDevOps, str]) -> AzureDevOps:
    return AzureDevOps(fake[1], PROJECT, TOKEN)


@pytest.fixture
def ci_environment(
    fake: tuple[FakeAzureDevOps, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """What Azure Pipelines sets in a failing job of the Train pipeline, pointed at the fake."""
    environment = {
        "SYSTEM_COLLECTIONURI": fake[1],
        "SYSTEM_TEAMPROJECT": PROJECT,
        "SYSTEM_ACCESSTOKEN": TOKEN,
        "BUILD_DEFINITIONNAME": "Train",
        "SYSTEM_JOBDISPLAYNAME": "File the work item of a failed training",
        "BUILD_BUILDID": "42",
        "BUILD_SOURCEBRANCHNAME": "main",
        "BUILD_SOURCEVERSION": "0123456789abcdef0123",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return environment


def report(fingerprint: str = "one", title: str = "Training failed") -> issues.BugReport:
    return issues.BugReport(title=title, body="It <broke>.", fingerprint=fingerprint)


def test_the_same_problem_files_one_work_item_then_comments_on_it(
    fake: tuple[FakeAzureDevOps, str], client: AzureDevOps
) -> None:
    state, _ = fake
    first = issues.file(client, report())
    second = issues.file(client, report())
    third = issues.file(client, report())

    assert (first.action, first.number) == ("opened", 1)
    assert (second.action, third.action, third.number) == ("updated", "updated", 1)
    assert len(state.items) == 1 and [number for number, _ in state.comments] == [1, 1]
    fields = state.items[0]["fields"]
    assert fields["System.Tags"] == f"{issues.LABEL}; mlops-fp-one"
    assert fields["System.WorkItemType"] == "Bug"
    assert "It &lt;broke&gt;." in fields["System.Description"]


def test_another_problem_files_another_work_item(
    fake: tuple[FakeAzureDevOps, str], client: AzureDevOps
) -> None:
    issues.file(client, report("one"))
    other = issues.file(client, report("two", "Monitoring failed"))
    assert (other.action, other.number) == ("opened", 2)
    assert fake[0].comments == []


def test_a_closed_work_item_is_reopened_when_the_problem_comes_back(
    fake: tuple[FakeAzureDevOps, str], client: AzureDevOps
) -> None:
    state, _ = fake
    issues.file(client, report())
    state.items[0]["fields"]["System.State"] = "Closed"
    again = issues.file(client, report())
    assert (again.action, again.number) == ("reopened", 1)
    assert state.items[0]["fields"]["System.State"] == "Active" and len(state.items) == 1
    basic = AzureDevOps(fake[1], PROJECT, TOKEN, work_item_type="Issue", reopen_state="Doing")
    state.items[0]["fields"]["System.State"] = "Done"
    assert issues.file(basic, report()).action == "reopened"
    assert state.items[0]["fields"]["System.State"] == "Doing"


def test_a_failed_run_files_its_report(
    fake: tuple[FakeAzureDevOps, str], ci_environment: dict[str, str], tmp_path: Path
) -> None:
    state, url = fake
    gate_report = tmp_path / "gate.md"
    gate_report.write_text("## Gate failed: version 3\n")
    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0
    assert issues.main(["--kind", "training", "--details", str(gate_report)]) == 0
    assert len(state.items) == 1 and len(state.comments) == 1
    fields = state.items[0]["fields"]
    assert fields["System.Title"] == "Training failed: Train"
    assert f"{url.rstrip('/')}/project/_build/results?buildId=42" in fields["System.Description"]
    assert "## Gate failed: version 3" in fields["System.Description"]


def test_without_a_token_the_work_item_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("SYSTEM_ACCESSTOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert issues.main(["--kind", "monitoring"]) == 0
    assert "no SYSTEM_ACCESSTOKEN" in capsys.readouterr().out


def test_an_api_error_fails_the_command(
    fake: tuple[FakeAzureDevOps, str],
    ci_environment: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake[0].fail_with = 500
    assert issues.main(["--kind", "training"]) == 1
    assert "HTTP 500" in capsys.readouterr().err


def test_a_bad_token_is_an_error(fake: tuple[FakeAzureDevOps, str]) -> None:
    with pytest.raises(AzureDevOpsError, match="HTTP 401"):
        issues.file(AzureDevOps(fake[1], PROJECT, "wrong"), report())


def test_training_runs_the_train_pipeline_with_the_reason(
    fake: tuple[FakeAzureDevOps, str], client: AzureDevOps
) -> None:
    done = client.dispatch("Train", "main", "drift")
    assert done.startswith("ran the Train pipeline on main")
    assert fake[0].runs == [
        (
            7,
            {
                "resources": {"repositories": {"self": {"refName": "refs/heads/main"}}},
                "templateParameters": {"reason": "drift"},
            },
        )
    ]
    with pytest.raises(AzureDevOpsError, match="no pipeline named `Retrain`"):
        client.dispatch("Retrain", "main", "drift")


def test_the_client_comes_from_the_environment() -> None:
    assert AzureDevOps.from_env({}) is None
    assert AzureDevOps.from_env({"SYSTEM_ACCESSTOKEN": "t"}) is None
    environment = dict(azure.EXAMPLE_ENVIRONMENT)
    client = AzureDevOps.from_env({**environment, "AZURE_BOARDS_WORK_ITEM_TYPE": "Issue"})
    assert client == AzureDevOps("https://dev.azure.com/team/", "project", "token", "Issue")
