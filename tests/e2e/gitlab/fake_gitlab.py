"""A fake GitLab REST API (v4) on 127.0.0.1, for the pipelines gitlab-ci-local runs offline.

It answers the calls the generated pipelines make (CI_API_V4_URL points here): the pipeline
trigger API with the job token (monitoring starts training), the raw file of the latest successful
job's artifacts (the monitoring state; 404 before a monitor job made one, as GitLab answers), and
issues with their notes through a token with the `api` scope (GITLAB_TOKEN). It records every
request, answers any other call with 404, recorded as unexpected, and serves under /e2e/files/ the
files the harness puts there (production's logs).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import fake_api


@dataclass
class FakeGitLab:
    project: str
    token: str
    job_token: str
    files: Path
    requests: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    triggered: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    # (job, path) -> the content of that file of the job's latest successful artifacts
    artifacts: dict[tuple[str, str], bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: Any
    ) -> tuple[int, Any]:
        prefix = f"/api/v4/projects/{self.project}/"
        if not path.startswith(prefix):
            return 404, {"message": "404 Project Not Found"}
        route = path.removeprefix(prefix)
        if route == "trigger/pipeline" and method == "POST":
            if (body or {}).get("token") != self.job_token:
                return 401, {"message": "401 Unauthorized"}
            self.triggered.append(body)
            return 201, {
                "id": len(self.triggered),
                "web_url": "https://gitlab.com/e2e/demo/-/pipelines/1",
            }
        if match := re.fullmatch(r"jobs/artifacts/([^/]+)/raw/(.+)", route):
            if headers.get("JOB-TOKEN") != self.job_token:
                return 401, {"message": "401 Unauthorized"}
            content = self.artifacts.get((query.get("job", ""), unquote(match[2])))
            if content is None:
                return 404, fake_api.Absent(message="404 Not Found")
            return 200, content
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, {"message": "401 Unauthorized"}
        if route == "issues" and method == "GET":
            label, search = query.get("labels", ""), query.get("search", "")
            found = [
                issue
                for issue in self.issues
                if label in issue["labels"] and search in issue["description"]
            ]
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "20"))
            return 200, found[(page - 1) * per_page : page * per_page]
        if route == "issues" and method == "POST":
            iid = len(self.issues) + 1
            issue = {
                "iid": iid,
                "title": body["title"],
                "description": body.get("description", ""),
                "labels": body.get("labels", "").split(","),
                "state": "opened",
                "notes": [],
                "web_url": f"https://gitlab.com/e2e/demo/-/issues/{iid}",
            }
            self.issues.append(issue)
            return 201, issue
        if (match := re.fullmatch(r"issues/(\d+)", route)) and method == "PUT":
            issue = self.issues[int(match[1]) - 1]
            if body.get("state_event") == "reopen":
                issue["state"] = "opened"
            return 200, issue
        if (match := re.fullmatch(r"issues/(\d+)/notes", route)) and method == "POST":
            self.issues[int(match[1]) - 1]["notes"].append(body["body"])
            return 201, {"id": 1}
        return 404, {"message": "404 Not Found"}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Starts the fake on a free port of 127.0.0.1: (the server, its URL)."""
        server, port = fake_api.serve(self)
        return server, f"http://127.0.0.1:{port}"
