"""A fake Azure DevOps REST API on 127.0.0.1, for the pipelines the runner runs offline.

It answers the calls the generated pipelines make with the job's System.AccessToken
(SYSTEM_COLLECTIONURI points here): work items of Azure Boards (a WIQL query by tag, a batch read,
creation, an update of the state, comments) and the pipelines of the project with their runs
(monitoring starts Train). It records every request, answers any other call with 404, recorded as
unexpected, and serves under /e2e/files/ the files the harness puts there (production's logs).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fake_api


@dataclass
class FakeAzureDevOps:
    organisation: str
    project: str
    token: str
    files: Path
    pipelines: dict[str, int] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    comments: list[tuple[int, str]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: Any
    ) -> tuple[int, Any]:
        prefix = f"/{self.organisation}/{self.project}/_apis/"
        if not path.startswith(prefix) or "api-version" not in query:
            return 404, {"message": "not found"}
        route = path.removeprefix(prefix)
        if route == "wit/wiql" and method == "POST":
            tags = re.findall(r"\[System.Tags\] CONTAINS '([^']+)'", body["query"])
            found = [
                {"id": item["id"]}
                for item in reversed(self.items)
                if all(tag in item["fields"]["System.Tags"].split("; ") for tag in tags)
            ]
            return 200, {"workItems": found}
        if route == "wit/workitems" and method == "GET":
            ids = [int(each) for each in query["ids"].split(",")]
            return 200, {"value": [self.items[each - 1] for each in ids]}
        if (match := re.fullmatch(r"wit/workitems/\$(\w+)", route)) and method == "POST":
            fields = {op["path"].removeprefix("/fields/"): op["value"] for op in body}
            item = {
                "id": len(self.items) + 1,
                "fields": {"System.State": "New", "System.WorkItemType": match[1], **fields},
            }
            self.items.append(item)
            return 200, item
        if (match := re.fullmatch(r"wit/workitems/(\d+)", route)) and method == "PATCH":
            item = self.items[int(match[1]) - 1]
            item["fields"].update({op["path"].removeprefix("/fields/"): op["value"] for op in body})
            return 200, item
        if (match := re.fullmatch(r"wit/workItems/(\d+)/comments", route)) and method == "POST":
            self.comments.append((int(match[1]), body["text"]))
            return 200, {"id": len(self.comments)}
        if route == "pipelines" and method == "GET":
            return 200, {"value": [{"id": i, "name": n} for n, i in self.pipelines.items()]}
        if (match := re.fullmatch(r"pipelines/(\d+)/runs", route)) and method == "POST":
            names = {i: n for n, i in self.pipelines.items()}
            self.runs.append({"pipeline": names.get(int(match[1]), "?"), **body})
            return 200, {"id": 9000 + len(self.runs)}
        return 404, {"message": "not found"}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Starts the fake on a free port of 127.0.0.1: (the server, the collection's URL)."""
        server, port = fake_api.serve(self, self.token, {"message": "TF400813: not authorized"})
        return server, f"http://127.0.0.1:{port}/{self.organisation}/"
