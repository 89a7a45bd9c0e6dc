"""A small client of GitHub's REST API, on the standard library alone.

The project talks to GitHub for three things, all from CI with the workflow's own token:

- dispatching the Train workflow when the retraining policy fires (monitor.py);
- opening or updating issues when a run fails or the policy fires (issues.py): the issues with
  the label `mlops-automated` are searched for the report's fingerprint, a hidden marker in the
  body;
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
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .api import ApiError, Issue, send

# This provider's name in configs/monitoring.yaml (`retrain.dispatch`), and the training
# workflow it dispatches by default.
NAME = "github"
TRAINING = "train.yml"
API_URL_ENV = "GITHUB_API_URL"
TOKEN_ENV = "GITHUB_TOKEN"
REPOSITORY_ENV = "GITHUB_REPOSITORY"
# The branch a run is on.
REF_ENV = "GITHUB_REF_NAME"
DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
# What a client needs, for the messages of a dry run.
NEEDS = f"{TOKEN_ENV} or {REPOSITORY_ENV}"
# GitHub refuses issue bodies longer than 65536 characters.
MAX_BODY = 60000
MAX_PAGES = 10
# What GitHub Actions sets in a job, enough for a client (tests use it).
EXAMPLE_ENVIRONMENT = {TOKEN_ENV: "token", REPOSITORY_ENV: "team/project"}


class GitHubError(ApiError):
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

    @property
    def where(self) -> str:
        return self.repository

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
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "{{ project_slug }}",
        }
        try:
            return send(
                method, f"{self.api_url}{path}", headers, body, query=query, timeout=self.timeout
            )
        except ApiError as error:
            raise GitHubError(str(error).replace(self.api_url, "", 1)) from None

    # The issue tracker (issues.py).

    def find(self, label: str, fingerprint: str, marker: str) -> Iterator[Issue]:
        """The issues with the label whose body carries the marker, pulls requests left out."""
        for page in range(1, MAX_PAGES + 1):
            query = {"state": "all", "labels": label, "per_page": 100, "page": page}
            issues = self.request("GET", "./issues", query=query) or []
            for issue in issues:
                if "pull_request" not in issue and marker in (issue.get("body") or ""):
                    yield as_issue(issue)
            if len(issues) < 100:
                break

    def create(self, title: str, body: str, labels: list[str], fingerprint: str) -> Issue:
        """Opens a new issue (`POST /repos/<repository>/issues`)."""
        issue = self.request("POST", "./issues", {"title": title, "body": body, "labels": labels})
        return as_issue(issue)

    def reopen(self, issue: Issue) -> None:
        self.request("PATCH", f"./issues/{issue.number}", {"state": "open"})

    def comment(self, issue: Issue, text: str) -> None:
        self.request("POST", f"./issues/{issue.number}/comments", {"body": text})

    # Training (monitor.py).

    def dispatch(self, workflow: str, ref: str, reason: str) -> str:
        """Runs the Train workflow `workflow` on `ref` with the reason; the token needs
        `actions: write`."""
        dispatch_workflow(self, workflow, ref, {"reason": reason[:1000]})
        return f"dispatched {workflow} on {ref} in {self.repository}"


def as_issue(issue: Mapping[str, Any]) -> Issue:
    return Issue(
        number=int(issue["number"]),
        open=issue.get("state") == "open",
        body=str(issue.get("body") or ""),
        url=str(issue.get("html_url", "")),
    )


def from_env(environ: Mapping[str, str] = os.environ) -> GitHub | None:
    """The client of the CI provider, for monitor.py."""
    return GitHub.from_env(environ)


def tracker_from_env(environ: Mapping[str, str] = os.environ) -> GitHub | None:
    """The client that files issues, for issues.py and monitor.py: the same one."""
    return GitHub.from_env(environ)


def default_ref(environ: Mapping[str, str] = os.environ) -> str:
    """The branch training is dispatched on: the one the monitor runs on, else main."""
    return environ.get(REF_ENV) or "main"


def run_context(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """Where a failure happened, as one Markdown line; the run's workflow; its job."""
    workflow = environ.get("GITHUB_WORKFLOW") or "local run"
    job = environ.get("GITHUB_JOB", "")
    where = f"workflow `{workflow}`" + (f", job `{job}`" if job else "")
    run_id = environ.get("GITHUB_RUN_ID")
    if run_id:
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = environ.get("GITHUB_REPOSITORY", "")
        where += f" ([run {run_id}]({server}/{repository}/actions/runs/{run_id}))"
    ref, sha = environ.get("GITHUB_REF_NAME"), environ.get("GITHUB_SHA")
    if ref or sha:
        where += f", on `{ref or '?'}` at `{(sha or '?')[:12]}`"
    return where, workflow, job


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
