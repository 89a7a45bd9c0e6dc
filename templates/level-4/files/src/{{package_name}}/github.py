"""A small client of GitHub's REST API, on the standard library alone.

The project talks to GitHub for three things, all from CI with the workflow's own token:

- dispatching the Train workflow when the retraining policy fires (monitor.py);
- opening or updating issues when a run fails or the policy fires (issues.py);
- keeping the scheduled Monitor workflow enabled: GitHub disables the schedules of a repository
  that has seen no activity for 60 days, and enabling the workflow through the API, as the Monitor
  workflow's keep-alive job does on every run, keeps it on
  (`python -m {{ package_name }}.github keepalive`, `make keepalive`).

`GITHUB_REPOSITORY` (`owner/name`), `GITHUB_TOKEN` and `GITHUB_API_URL` (GitHub Enterprise, or a
fake server in tests) configure it, as GitHub Actions sets them. Without a token or a repository
there is no client: callers then print what they would have sent (a dry run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

API_URL_ENV = "GITHUB_API_URL"
TOKEN_ENV = "GITHUB_TOKEN"
REPOSITORY_ENV = "GITHUB_REPOSITORY"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """GitHub refused a request, or could not be reached."""


@dataclass(frozen=True)
class GitHub:
    repository: str
    token: str
    api_url: str = DEFAULT_API_URL
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GitHub | None:
        """The client the environment configures; `None` without a token or a repository."""
        token, repository = environ.get(TOKEN_ENV, ""), environ.get(REPOSITORY_ENV, "")
        if not token or not repository:
            return None
        api_url = environ.get(API_URL_ENV) or DEFAULT_API_URL
        return cls(repository, token, api_url.rstrip("/"))

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str | int] | None = None,
    ) -> Any:
        """Sends one request to `path` (under `/repos/<repository>` when it starts with `./`) and
        returns the decoded JSON answer, `None` for an empty one."""
        if path.startswith("./"):
            path = f"/repos/{self.repository}/{path[2:]}"
        url = f"{self.api_url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "{{ project_slug }}",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise GitHubError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except OSError as error:
            raise GitHubError(f"{method} {path}: {error}") from None
        return json.loads(content) if content else None


def dispatch_workflow(
    github: GitHub, workflow: str, ref: str, inputs: Mapping[str, str] | None = None
) -> None:
    """Starts a run of the workflow file `workflow` (which has a `workflow_dispatch` trigger) on
    `ref`. The token needs `actions: write`."""
    body = {"ref": ref, "inputs": dict(inputs or {})}
    github.request("POST", f"./actions/workflows/{workflow}/dispatches", body)


def enable_workflow(github: GitHub, workflow: str) -> None:
    """Enables the workflow file `workflow`; done regularly, it keeps its schedule alive."""
    github.request("PUT", f"./actions/workflows/{workflow}/enable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Talk to GitHub for the project's workflows.")
    commands = parser.add_subparsers(dest="command", required=True)
    keepalive = commands.add_parser("keepalive", help="keep a scheduled workflow enabled")
    keepalive.add_argument("--workflow", default="monitor.yml", help="the workflow file")
    args = parser.parse_args(argv)
    github = GitHub.from_env()
    if github is None:
        print(f"dry run: no {TOKEN_ENV} or {REPOSITORY_ENV}; would enable {args.workflow}")
        return 0
    try:
        enable_workflow(github, args.workflow)
    except GitHubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.workflow} is enabled in {github.repository}: its schedule stays alive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
