"""A small client of GitLab's REST API (v4), on the standard library alone.

The project talks to GitLab for four things, all from CI:

- triggering a training pipeline (MLOPS_PIPELINE=train) when the retraining policy fires
  (monitor.py), through the pipeline trigger API with the job's CI_JOB_TOKEN, or with a trigger
  token (TRAIN_TRIGGER_TOKEN) when one is set;
- opening or updating issues when a job fails or the policy fires (issues.py): the project's issues
  with the label `mlops-automated` are searched for the report's fingerprint, a hidden marker in
  the description. The job token cannot file issues: GITLAB_TOKEN, a project access token with the
  `api` scope (Reporter), masked and protected, can;
- the monitoring schedule: `make monitor-schedule`, that is
  `python -m {{ package_name }}.gitlab schedule`,
  creates the project's pipeline schedule with MLOPS_PIPELINE=monitor and the cron of
  configs/monitoring.yaml, or updates it to that cron (GITLAB_TOKEN);
- the policy's state: `make monitor-state`, that is
  `python -m {{ package_name }}.gitlab state`,
  fetches reports/monitoring/state.json from the artifacts of the latest successful `monitor` job.

CI_API_V4_URL, CI_PROJECT_ID, CI_JOB_TOKEN and CI_COMMIT_REF_NAME are what GitLab sets in every
job; a fake server in tests sets them too. Without a project or a token there is no client: callers
then print what they would have sent (a dry run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .api import ApiError, Issue, send

# This provider's name in configs/monitoring.yaml (`retrain.dispatch`), and the pipeline training
# runs in (MLOPS_PIPELINE).
NAME = "gitlab"
TRAINING = "train"
API_URL_ENV = "CI_API_V4_URL"
PROJECT_ENV = "CI_PROJECT_ID"
JOB_TOKEN_ENV = "CI_JOB_TOKEN"
TOKEN_ENV = "GITLAB_TOKEN"
TRIGGER_TOKEN_ENV = "TRAIN_TRIGGER_TOKEN"
REF_ENV = "CI_COMMIT_REF_NAME"
DEFAULT_API_URL = "https://gitlab.com/api/v4"
NEEDS = f"{PROJECT_ENV} or {TOKEN_ENV}"
MAX_BODY = 60000
MAX_PAGES = 10
SCHEDULE_DESCRIPTION = "monitoring ({{ project_slug }})"
STATE = Path("reports/monitoring/state.json")
EXAMPLE_ENVIRONMENT = {PROJECT_ENV: "42", TOKEN_ENV: "token", JOB_TOKEN_ENV: "job-token"}


class GitLabError(ApiError):
    """GitLab refused a request, or could not be reached."""


@dataclass(frozen=True)
class GitLab:
    project: str
    token: str = ""
    job_token: str = ""
    trigger_token: str = ""
    api_url: str = DEFAULT_API_URL
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GitLab | None:
        """The client the environment configures; `None` without a project or any token."""
        project = environ.get(PROJECT_ENV, "")
        tokens = [environ.get(name, "") for name in (TOKEN_ENV, JOB_TOKEN_ENV, TRIGGER_TOKEN_ENV)]
        if not project or not any(tokens):
            return None
        api_url = (environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
        return cls(project, *tokens, api_url=api_url)

    @property
    def where(self) -> str:
        return f"project {self.project}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, str | int] | None = None,
        *,
        job_token: bool = False,
    ) -> Any:
        """Sends one request to `path` (under `/projects/<id>` when it starts with `./`), with
        GITLAB_TOKEN, or with the job token when `job_token` is true."""
        if path.startswith("./"):
            path = f"/projects/{urllib.parse.quote(self.project, safe='')}/{path[2:]}"
        if job_token:
            if not self.job_token:
                raise GitLabError(f"{method} {path}: no {JOB_TOKEN_ENV}")
            headers = {"JOB-TOKEN": self.job_token}
        else:
            if not self.token:
                raise GitLabError(f"{method} {path}: no {TOKEN_ENV} (a token with the api scope)")
            headers = {"PRIVATE-TOKEN": self.token}
        headers["User-Agent"] = "{{ project_slug }}"
        try:
            return send(
                method, f"{self.api_url}{path}", headers, body, query=query, timeout=self.timeout
            )
        except ApiError as error:
            raise GitLabError(str(error).replace(self.api_url, "", 1)) from None

    # The issue tracker (issues.py).

    def find(self, label: str, fingerprint: str, marker: str) -> Iterator[Issue]:
        """The issues with the label whose description carries the marker."""
        for page in range(1, MAX_PAGES + 1):
            query = {
                "labels": label,
                "scope": "all",
                "search": fingerprint,
                "in": "description",
                "per_page": 100,
                "page": page,
            }
            issues = self.request("GET", "./issues", query=query) or []
            for issue in issues:
                if marker in (issue.get("description") or ""):
                    yield as_issue(issue)
            if len(issues) < 100:
                break

    def create(self, title: str, body: str, labels: list[str], fingerprint: str) -> Issue:
        """Opens a new issue (`POST /projects/<id>/issues`)."""
        fields = {"title": title, "description": body, "labels": ",".join(labels)}
        return as_issue(self.request("POST", "./issues", fields))

    def reopen(self, issue: Issue) -> None:
        self.request("PUT", f"./issues/{issue.number}", {"state_event": "reopen"})

    def comment(self, issue: Issue, text: str) -> None:
        self.request("POST", f"./issues/{issue.number}/notes", {"body": text})

    # Training (monitor.py).

    def dispatch(self, workflow: str, ref: str, reason: str) -> str:
        """Triggers a pipeline on `ref` with MLOPS_PIPELINE=`workflow` and the reason."""
        token = self.trigger_token or self.job_token
        if not token:
            raise GitLabError(f"triggering a pipeline needs {JOB_TOKEN_ENV} or {TRIGGER_TOKEN_ENV}")
        variables = {"MLOPS_PIPELINE": workflow, "TRAIN_REASON": reason[:1000]}
        body = {"token": token, "ref": ref, "variables": variables}
        path = f"/projects/{urllib.parse.quote(self.project, safe='')}/trigger/pipeline"
        try:
            answer = send("POST", f"{self.api_url}{path}", {}, body, timeout=self.timeout)
        except ApiError as error:
            raise GitLabError(str(error).replace(self.api_url, "", 1)) from None
        web_url = (answer or {}).get("web_url", "")
        return f"triggered the {workflow} pipeline on {ref} in {self.where} {web_url}".rstrip()

    # The monitoring schedule and its state.

    def schedule(self, cron: str, ref: str) -> str:
        """Creates the monitoring schedule with `cron` on `ref`, or updates the one there is."""
        schedules = self.request("GET", "./pipeline_schedules", query={"per_page": 100}) or []
        existing = [s for s in schedules if s.get("description") == SCHEDULE_DESCRIPTION]
        fields = {"cron": cron, "ref": ref, "cron_timezone": "UTC", "active": True}
        if existing:
            schedule_id = int(existing[0]["id"])
            self.request("PUT", f"./pipeline_schedules/{schedule_id}", fields)
            action = "updated"
        else:
            created = self.request(
                "POST", "./pipeline_schedules", {"description": SCHEDULE_DESCRIPTION, **fields}
            )
            schedule_id = int(created["id"])
            action = "created"
        variables = self.request("GET", f"./pipeline_schedules/{schedule_id}") or {}
        keys = {variable.get("key") for variable in variables.get("variables", [])}
        variable = {"key": "MLOPS_PIPELINE", "value": "monitor"}
        if "MLOPS_PIPELINE" in keys:
            path = f"./pipeline_schedules/{schedule_id}/variables/MLOPS_PIPELINE"
            self.request("PUT", path, variable)
        else:
            self.request("POST", f"./pipeline_schedules/{schedule_id}/variables", variable)
        return f"{action} the pipeline schedule {schedule_id}: `{cron}` (UTC) on {ref}"

    def previous_state(self, ref: str, job: str = "monitor") -> Any:
        """The state file of the latest successful `job` on `ref`; `None` when there is none."""
        path = f"./jobs/artifacts/{urllib.parse.quote(ref, safe='')}/raw/{STATE}"
        try:
            return self.request("GET", path, query={"job": job}, job_token=True)
        except GitLabError as error:
            if "HTTP 404" in str(error):
                return None
            raise


def as_issue(issue: Mapping[str, Any]) -> Issue:
    return Issue(
        number=int(issue["iid"]),
        open=issue.get("state") == "opened",
        body=str(issue.get("description") or ""),
        url=str(issue.get("web_url", "")),
    )


def from_env(environ: Mapping[str, str] = os.environ) -> GitLab | None:
    """The client of the CI provider, for monitor.py."""
    return GitLab.from_env(environ)


def tracker_from_env(environ: Mapping[str, str] = os.environ) -> GitLab | None:
    """The client that files issues, for issues.py and monitor.py: one with GITLAB_TOKEN."""
    gitlab = GitLab.from_env(environ)
    return gitlab if gitlab is not None and gitlab.token else None


def default_ref(environ: Mapping[str, str] = os.environ) -> str:
    """The branch training runs on: the one the monitor runs on, else main."""
    return environ.get(REF_ENV) or "main"


def run_context(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """Where a failure happened, as one Markdown line; the pipeline; its job."""
    pipeline = environ.get("MLOPS_PIPELINE") or ("CI" if environ.get("CI_JOB_ID") else "local run")
    job = environ.get("CI_JOB_NAME", "")
    where = f"the {pipeline} pipeline" + (f", job `{job}`" if job else "")
    url = environ.get("CI_JOB_URL") or environ.get("CI_PIPELINE_URL")
    if url:
        where += f" ([job {environ.get('CI_JOB_ID', '?')}]({url}))"
    ref, sha = environ.get(REF_ENV), environ.get("CI_COMMIT_SHA")
    if ref or sha:
        where += f", on `{ref or '?'}` at `{(sha or '?')[:12]}`"
    return where, pipeline, job


def configured_schedule(path: Path = Path("configs/monitoring.yaml")) -> str:
    """The cron of configs/monitoring.yaml."""
    import yaml  # the project's dependency; the rest of this module needs only the standard library

    return str((yaml.safe_load(path.read_text()) or {}).get("schedule", "17 3 * * *"))


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(description="Talk to GitLab for the project's pipelines.")
    commands = parser.add_subparsers(dest="command", required=True)
    schedule = commands.add_parser("schedule", help="create or update the monitoring schedule")
    schedule.add_argument("--config", type=Path, default=Path("configs/monitoring.yaml"))
    schedule.add_argument("--ref", help="the branch it runs on (default: main)")
    commands.add_parser("state", help="fetch the state of the latest successful monitor job")
    args = parser.parse_args(argv)
    gitlab = GitLab.from_env(environ)
    try:
        if args.command == "schedule":
            cron, ref = configured_schedule(args.config), args.ref or "main"
            if gitlab is None:
                print(f"dry run: no {NEEDS}; would schedule monitoring at `{cron}` on {ref}")
                return 0
            print(gitlab.schedule(cron, ref))
            return 0
        if gitlab is None:
            print(f"no {NEEDS}: monitoring starts without the state of a previous job")
            return 0
        state = gitlab.previous_state(default_ref(environ))
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if state is None:
        print("no earlier monitor job left a state: the policy starts afresh")
        return 0
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps(state, indent=2) + "\n")
    print(f"the state of the latest monitor job is in {STATE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
