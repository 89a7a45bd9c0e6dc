"""A fake GitHub REST API on 127.0.0.1, for the workflows that act runs offline.

It answers the calls the generated workflows make with the workflow's token (`GITHUB_API_URL`
points here): issues (list, open, reopen, comment), a workflow's dispatch and enabling, and the
list of a workflow's runs, which the harness keeps as it runs them. It records every request, so
that the harness can check what a run sent, and answers any other call with 404, recorded as
unexpected. Under /e2e/files/ it also serves files the harness puts there, such as the prediction
log that production would ship to a URL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fake_api


@dataclass
class FakeGitHub:
    repository: str
    token: str
    files: Path
    requests: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    # workflow file -> runs, newest last: {"id", "conclusion", "head_branch"}
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: Any
    ) -> tuple[int, Any]:
        prefix = f"/repos/{self.repository}/"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}
        route = path.removeprefix(prefix).split("/")
        if route == ["issues"] and method == "GET":
            label = query.get("labels", "")
            state = query.get("state", "open")
            found = [
                issue
                for issue in self.issues
                if (not label or label in issue["labels_names"])
                and (state == "all" or issue["state"] == state)
            ]
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "30"))
            return 200, [public(i) for i in found[(page - 1) * per_page : page * per_page]]
        if route == ["issues"] and method == "POST":
            number = len(self.issues) + 1
            issue = {
                "number": number,
                "title": body["title"],
                "body": body.get("body", ""),
                "labels_names": list(body.get("labels", [])),
                "state": "open",
                "comments": [],
                "html_url": f"https://github.com/{self.repository}/issues/{number}",
            }
            self.issues.append(issue)
            return 201, public(issue)
        if len(route) == 2 and route[0] == "issues" and method == "PATCH":
            issue = self.issues[int(route[1]) - 1]
            issue["state"] = body.get("state", issue["state"])
            return 200, public(issue)
        if len(route) == 3 and route[0] == "issues" and route[2] == "comments" and method == "POST":
            self.issues[int(route[1]) - 1]["comments"].append(body["body"])
            return 201, {"id": 1, "body": body["body"]}
        if len(route) == 4 and route[:2] == ["actions", "workflows"]:
            workflow, action = route[2], route[3]
            if action == "dispatches" and method == "POST":
                self.dispatches.append({"workflow": workflow, **body})
                return 204, None
            if action == "enable" and method == "PUT":
                self.enabled.append(workflow)
                return 204, None
            if action == "runs" and method == "GET":
                runs = list(reversed(self.runs.get(workflow, [])))
                if "status" in query:
                    runs = [run for run in runs if run["conclusion"] == query["status"]]
                if "branch" in query:
                    runs = [run for run in runs if run["head_branch"] == query["branch"]]
                runs = runs[: int(query.get("per_page", "30"))]
                return 200, {"total_count": len(runs), "workflow_runs": runs}
        return 404, {"message": "Not Found"}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Starts the fake on a free port of 127.0.0.1: (the server, its URL)."""
        server, port = fake_api.serve(self, self.token, {"message": "Bad credentials"})
        return server, f"http://127.0.0.1:{port}"


def public(issue: dict[str, Any]) -> dict[str, Any]:
    """An issue as the API shows it."""
    shown = {key: value for key, value in issue.items() if key not in {"labels_names", "comments"}}
    return {**shown, "labels": [{"name": name} for name in issue["labels_names"]]}
