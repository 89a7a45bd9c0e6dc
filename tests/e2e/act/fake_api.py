"""The HTTP side the suite's fake APIs share: GitHub's here (fake_github.py), GitLab's and Azure
DevOps' (gitlab/fake_gitlab.py, azure/fake_azure.py, which find this module on the path their
harness sets).

A fake keeps its state and answers calls in `answer`; `serve` puts it on a free port of
127.0.0.1, records every request under the fake's lock, refuses a request without the bearer
token when one is given, answers JSON (or the bytes `answer` returns), records any call answered
with 404 as unexpected (but an `Absent` one: what the API answers for a thing that does not exist
yet), and serves the files the harness puts under /e2e/files/, such as the
prediction log that production would ship to a URL.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


class Absent(dict):
    """The body of a 404 that is the real API's answer for something that may well not exist yet
    (the artifacts of a job that never ran), which a client must handle: not an unexpected call."""


class FakeApi(Protocol):
    files: Path
    lock: threading.Lock
    requests: list[dict[str, Any]]
    unexpected: list[str]

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: Any
    ) -> tuple[int, Any]: ...


def serve(
    fake: FakeApi, bearer: str | None = None, refusal: Any = None
) -> tuple[ThreadingHTTPServer, int]:
    """Starts `fake` on a free port of 127.0.0.1: (the server, its port). With `bearer`, a request
    without `Authorization: Bearer <bearer>` is answered 401 with `refusal`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle_request(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path.startswith("/e2e/files/") and method == "GET":
                path = fake.files / url.path.removeprefix("/e2e/files/")
                if not path.is_file():
                    return self.reply(404, {"message": "Not Found"})
                return self.reply(200, path.read_bytes())
            with fake.lock:
                fake.requests.append({"method": method, "path": url.path, "query": query})
                if bearer is not None and self.headers.get("Authorization") != f"Bearer {bearer}":
                    return self.reply(401, refusal)
                body = json.loads(raw) if raw else None
                status, answer = fake.answer(method, url.path, query, self.headers, body)
                if status == 404 and not isinstance(answer, Absent):
                    fake.unexpected.append(f"{method} {url.path}")
            return self.reply(status, answer)

        def reply(self, status: int, answer: Any) -> None:
            if isinstance(answer, bytes):
                content = answer
            else:
                content = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_GET(self) -> None:
            self.handle_request("GET")

        def do_POST(self) -> None:
            self.handle_request("POST")

        def do_PATCH(self) -> None:
            self.handle_request("PATCH")

        def do_PUT(self) -> None:
            self.handle_request("PUT")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
