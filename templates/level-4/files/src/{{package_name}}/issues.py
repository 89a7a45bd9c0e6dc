"""Automatic bug tracking: a failure files its own issue, once.

A failed training, release or monitoring run (the `if: failure()` steps of the Train, Deploy model
and Monitor workflows, `make bug-report KIND=...`) or a retraining policy that fires (monitor.py)
opens an issue on the repository through GitHub's API, with what failed, where, and the report the
run left behind. The same problem must not open an issue per run, so every report carries a
*fingerprint* (say, "the Train workflow's `train` job failed"): it is written into the issue's body
as a hidden marker, and before opening an issue the repository's issues with the label
`mlops-automated` are searched for it. When one is found, the report becomes a comment on it
(and a closed issue is reopened): one issue per problem, with its history.

Without `GITHUB_TOKEN` and `GITHUB_REPOSITORY`, or with `--dry-run`, the issue is printed instead of
sent, which is how to see locally what CI would file:

    make bug-report KIND=training DRY_RUN=1
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .github import GitHub, GitHubError

LABEL = "mlops-automated"
MARKER = "<!-- mlops-fingerprint: {} -->"
# GitHub refuses bodies longer than 65536 characters.
MAX_BODY = 60000
MAX_PAGES = 10
KINDS = {
    "training": ("Training failed", [Path("reports/training/gate.md")]),
    "release": ("Model release failed", [Path("reports/release/release.md")]),
    "monitoring": ("Monitoring failed", [Path("reports/monitoring/report.md")]),
}


@dataclass(frozen=True)
class BugReport:
    title: str
    body: str
    fingerprint: str
    labels: list[str] = field(default_factory=lambda: [LABEL])

    @property
    def marker(self) -> str:
        return MARKER.format(self.fingerprint)

    def issue_body(self) -> str:
        note = (
            "Filed automatically by `src/{{ package_name }}/issues.py`. "
            "The same problem again adds a comment here rather than another issue."
        )
        return f"{truncate(self.body)}\n\n---\n{note}\n{self.marker}\n"


@dataclass(frozen=True)
class Filed:
    action: str  # "opened", "updated" or "reopened"
    number: int
    url: str


def fingerprint(*parts: str) -> str:
    """A short, stable digest naming one problem."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def truncate(text: str, limit: int = MAX_BODY) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + "\n\n(cut short)"


def find_issue(github: GitHub, report: BugReport) -> dict[str, Any] | None:
    """The issue carrying the report's fingerprint, an open one first; `None` if there is none."""
    found = []
    for page in range(1, MAX_PAGES + 1):
        query = {"state": "all", "labels": LABEL, "per_page": 100, "page": page}
        issues = github.request("GET", "./issues", query=query) or []
        found += [
            issue
            for issue in issues
            if "pull_request" not in issue and report.marker in (issue.get("body") or "")
        ]
        if len(issues) < 100:
            break
    found.sort(key=lambda issue: (issue.get("state") != "open", -int(issue["number"])))
    return found[0] if found else None


def create_issue(github: GitHub, report: BugReport) -> Filed:
    """Opens a new issue for the report (`POST /repos/<repository>/issues`)."""
    body = {"title": report.title, "body": report.issue_body(), "labels": report.labels}
    issue = github.request("POST", "./issues", body)
    return Filed("opened", int(issue["number"]), str(issue.get("html_url", "")))


def file(github: GitHub, report: BugReport) -> Filed:
    """Opens an issue for the report, or comments on (and reopens) the one it already has."""
    existing = find_issue(github, report)
    if existing is None:
        return create_issue(github, report)
    number = int(existing["number"])
    action = "updated"
    if existing.get("state") != "open":
        github.request("PATCH", f"./issues/{number}", {"state": "open"})
        action = "reopened"
    comment = f"### {report.title}, again\n\n{truncate(report.body)}"
    github.request("POST", f"./issues/{number}/comments", {"body": comment})
    return Filed(action, number, str(existing.get("html_url", "")))


def render(report: BugReport) -> str:
    """The issue as it would be filed, for a dry run."""
    return "\n".join(
        [
            f"title: {report.title}",
            f"labels: {', '.join(report.labels)}",
            f"fingerprint: {report.fingerprint}",
            "",
            report.issue_body(),
        ]
    )


def submit(report: BugReport, github: GitHub | None, *, dry_run: bool = False) -> Filed | None:
    """Files the report, or prints it when there is no client or it is a dry run."""
    if github is None or dry_run:
        why = "--dry-run" if dry_run else "no GITHUB_TOKEN or GITHUB_REPOSITORY"
        print(f"dry run ({why}): the issue that would be filed or updated\n")
        print(render(report))
        return None
    filed = file(github, report)
    print(f"issue #{filed.number} {filed.action}: {report.title} {filed.url}".rstrip())
    return filed


def run_context(environ: Mapping[str, str]) -> tuple[str, str]:
    """Where the failure happened, as one Markdown line, and a name for the run's workflow."""
    workflow = environ.get("GITHUB_WORKFLOW") or "local run"
    job = environ.get("GITHUB_JOB")
    where = f"workflow `{workflow}`" + (f", job `{job}`" if job else "")
    run_id = environ.get("GITHUB_RUN_ID")
    if run_id:
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = environ.get("GITHUB_REPOSITORY", "")
        where += f" ([run {run_id}]({server}/{repository}/actions/runs/{run_id}))"
    ref, sha = environ.get("GITHUB_REF_NAME"), environ.get("GITHUB_SHA")
    if ref or sha:
        where += f", on `{ref or '?'}` at `{(sha or '?')[:12]}`"
    return where, workflow


def failure_report(
    kind: str, environ: Mapping[str, str] = os.environ, details: list[Path] | None = None
) -> BugReport:
    """The report of a failed training, release or monitoring run, from the CI environment and the
    reports the run left behind (the defaults of its kind, when they exist)."""
    title, default_details = KINDS[kind]
    where, workflow = run_context(environ)
    lines = [f"**{title}** in {where}.", ""]
    for path in default_details if details is None else details:
        if path.is_file():
            lines += [f"#### `{path}`", "", path.read_text(errors="replace").strip(), ""]
    if len(lines) == 2:
        lines.append("The run left no report: its log says what went wrong.")
    job = environ.get("GITHUB_JOB", "")
    return BugReport(
        title=f"{title}: {workflow}",
        body="\n".join(lines).rstrip(),
        fingerprint=fingerprint(kind, workflow, job),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open or update the issue of a failed run.")
    parser.add_argument("--kind", choices=sorted(KINDS), required=True, help="what failed")
    parser.add_argument(
        "--details",
        type=Path,
        action="append",
        help="a report to include (repeatable; default: the kind's own report)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the issue, send nothing")
    args = parser.parse_args(argv)
    report = failure_report(args.kind, details=args.details)
    try:
        submit(report, GitHub.from_env(), dry_run=args.dry_run)
    except GitHubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
