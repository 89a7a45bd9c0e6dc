"""Automatic bug tracking: a failure files its own issue, once.

A failed training, release or monitoring run (`make bug-report KIND=...`, which the pipelines run
when one of their jobs fails) or a retraining policy that fires (monitor.py) opens an issue through
the CI provider's API ({{ ci_provider }}.py), with what failed, where, and the report the run left
behind. The same problem must not open an issue per run, so every report carries a *fingerprint*
(say, "the Train pipeline's `train` job failed"), which the issue carries too, and before opening
an issue the tracker's issues with the label `mlops-automated` are searched for it. When one is
found, the report becomes a comment on it (and a closed issue is reopened): one issue per problem,
with its history.

Without the provider's credentials ({{ ci_provider }}.NEEDS), or with `--dry-run`, the issue is
printed instead of sent, which is how to see locally what CI would file:

    make bug-report KIND=training DRY_RUN=1
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import {{ ci_provider }} as provider
from .api import ApiError, Issue

LABEL = "mlops-automated"
MARKER = "<!-- mlops-fingerprint: {} -->"
MAX_BODY = provider.MAX_BODY
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


class Tracker(Protocol):
    """Where issues are filed: the CI provider's client ({{ ci_provider }}.py)."""

    @property
    def where(self) -> str: ...

    def find(self, label: str, fingerprint: str, marker: str) -> Iterator[Issue]:
        """The issues with the label that carry the fingerprint (as the marker in their body, or
        however the tracker keeps it)."""
        ...

    def create(self, title: str, body: str, labels: list[str], fingerprint: str) -> Issue: ...

    def reopen(self, issue: Issue) -> None: ...

    def comment(self, issue: Issue, text: str) -> None: ...


def find_issue(tracker: Tracker, report: BugReport) -> Issue | None:
    """The issue carrying the report's fingerprint, an open one first; `None` if there is none."""
    found = list(tracker.find(LABEL, report.fingerprint, report.marker))
    found.sort(key=lambda issue: (not issue.open, -issue.number))
    return found[0] if found else None


def file(tracker: Tracker, report: BugReport) -> Filed:
    """Opens an issue for the report, or comments on (and reopens) the one it already has."""
    existing = find_issue(tracker, report)
    if existing is None:
        issue = tracker.create(report.title, report.issue_body(), report.labels, report.fingerprint)
        return Filed("opened", issue.number, issue.url)
    action = "updated"
    if not existing.open:
        tracker.reopen(existing)
        action = "reopened"
    tracker.comment(existing, f"### {report.title}, again\n\n{truncate(report.body)}")
    return Filed(action, existing.number, existing.url)


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


def submit(report: BugReport, tracker: Tracker | None, *, dry_run: bool = False) -> Filed | None:
    """Files the report, or prints it when there is no client or it is a dry run."""
    if tracker is None or dry_run:
        why = "--dry-run" if dry_run else f"no {provider.NEEDS}"
        print(f"dry run ({why}): the issue that would be filed or updated\n")
        print(render(report))
        return None
    filed = file(tracker, report)
    print(f"issue #{filed.number} {filed.action}: {report.title} {filed.url}".rstrip())
    return filed


def failure_report(
    kind: str, environ: Mapping[str, str] = os.environ, details: list[Path] | None = None
) -> BugReport:
    """The report of a failed training, release or monitoring run, from the CI environment and the
    reports the run left behind (the defaults of its kind, when they exist)."""
    title, default_details = KINDS[kind]
    where, workflow, job = provider.run_context(environ)
    lines = [f"**{title}** in {where}.", ""]
    for path in default_details if details is None else details:
        if path.is_file():
            lines += [f"#### `{path}`", "", path.read_text(errors="replace").strip(), ""]
    if len(lines) == 2:
        lines.append("The run left no report: its log says what went wrong.")
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
        submit(report, provider.tracker_from_env(), dry_run=args.dry_run)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
