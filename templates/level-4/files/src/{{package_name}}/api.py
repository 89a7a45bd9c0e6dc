"""What the project's clients of its CI provider's API share, on the standard library alone.

The provider's module ({{ ci_provider }}.py) talks to its REST API for three things, all from CI:
filing the issues of failures (issues.py), starting training when the retraining policy fires
(monitor.py), and what its monitoring schedule needs. Each one sends JSON with `send`, raises
`ApiError` when the server refuses or cannot be reached, and hands issues back as `Issue`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """The CI provider's API refused a request, or could not be reached."""


@dataclass(frozen=True)
class Issue:
    """An issue (or work item) as the tracker holds it."""

    number: int
    open: bool
    body: str
    url: str = ""


def send(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any = None,
    *,
    query: Mapping[str, str | int] | None = None,
    content_type: str = "application/json",
    timeout: float = 30.0,
) -> Any:
    """Sends one request and returns the decoded JSON answer, `None` for an empty one."""
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Accept": "application/json", **headers}
    if data is not None:
        all_headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    where = url.split("?")[0]
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise ApiError(f"{method} {where}: HTTP {error.code}: {detail}") from None
    except OSError as error:
        raise ApiError(f"{method} {where}: {error}") from None
    return json.loads(content) if content else None
