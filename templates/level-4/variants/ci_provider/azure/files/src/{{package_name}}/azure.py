"""A small client of the Azure DevOps REST API, on the standard library alone.

The project talks to Azure DevOps for two things, from its pipelines, with the job's own token
(System.AccessToken, mapped to SYSTEM_ACCESSTOKEN in the steps that need it):

- running the Train pipeline when the retraining policy fires (monitor.py), with the reason as its
  `reason` parameter; the project's build service needs "Queue builds" on that pipeline;
- opening or updating work items in Azure Boards when a run fails or the policy fires
  (issues.py): every work item it files is tagged `mlops-automated` and `mlops-fp-<fingerprint>`,
  and a WIQL query for that tag finds the work item of a problem again. The build service needs
  "Edit work items" in the area of the project (Project settings > Boards).

SYSTEM_COLLECTIONURI (https://dev.azure.com/<organisation>/) and SYSTEM_TEAMPROJECT are what
Azure Pipelines sets in every job; a fake server in tests sets them too. AZURE_BOARDS_WORK_ITEM_TYPE
(default `Bug`; `Issue` in the Basic process) and AZURE_BOARDS_REOPEN_STATE (default `Active`;
`Doing` in the Basic process) fit it to the project's process. Without a token there is no client:
callers then print what they would have sent (a dry run).
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .api import ApiError, Issue, send

# This provider's name in configs/monitoring.yaml (`retrain.dispatch`), and the pipeline it runs
# by default.
NAME = "azure"
TRAINING = "Train"
COLLECTION_ENV = "SYSTEM_COLLECTIONURI"
PROJECT_ENV = "SYSTEM_TEAMPROJECT"
TOKEN_ENV = "SYSTEM_ACCESSTOKEN"
REF_ENV = "BUILD_SOURCEBRANCHNAME"
TYPE_ENV = "AZURE_BOARDS_WORK_ITEM_TYPE"
REOPEN_ENV = "AZURE_BOARDS_REOPEN_STATE"
API_VERSION = "7.1"
NEEDS = f"{TOKEN_ENV}, {COLLECTION_ENV} or {PROJECT_ENV}"
MAX_BODY = 60000
# The states of a finished work item, in the Agile, Scrum, CMMI and Basic processes.
CLOSED_STATES = {"Closed", "Done", "Resolved", "Removed"}
EXAMPLE_ENVIRONMENT = {
    COLLECTION_ENV: "https://dev.azure.com/team/",
    PROJECT_ENV: "project",
    TOKEN_ENV: "token",
}


class AzureDevOpsError(ApiError):
    """Azure DevOps refused a request, or could not be reached."""


@dataclass(frozen=True)
class AzureDevOps:
    collection_uri: str
    project: str
    token: str
    work_item_type: str = "Bug"
    reopen_state: str = "Active"
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AzureDevOps | None:
        """The client the environment configures; `None` without a token or a project."""
        values = [environ.get(name, "") for name in (COLLECTION_ENV, PROJECT_ENV, TOKEN_ENV)]
        if not all(values):
            return None
        collection, project, token = values
        return cls(
            collection.rstrip("/") + "/",
            project,
            token,
            environ.get(TYPE_ENV) or "Bug",
            environ.get(REOPEN_ENV) or "Active",
        )

    @property
    def where(self) -> str:
        return f"{self.collection_uri}{self.project}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        version: str = API_VERSION,
        content_type: str = "application/json",
    ) -> Any:
        """Sends one request to `path`, under the project's `_apis/`."""
        url = f"{self.collection_uri}{urllib.parse.quote(self.project)}/_apis/{path}"
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": "{{ project_slug }}"}
        try:
            return send(
                method,
                url,
                headers,
                body,
                query={"api-version": version},
                content_type=content_type,
                timeout=self.timeout,
            )
        except ApiError as error:
            raise AzureDevOpsError(str(error).replace(self.collection_uri, "/", 1)) from None

    # The issue tracker (issues.py): work items of Azure Boards.

    def find(self, label: str, fingerprint: str, marker: str) -> Iterator[Issue]:
        """The work items tagged with the label and the fingerprint's tag."""
        query = (
            "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project "
            f"AND [System.Tags] CONTAINS '{label}' "
            f"AND [System.Tags] CONTAINS '{fingerprint_tag(fingerprint)}' "
            "ORDER BY [System.Id] DESC"
        )
        found = self.request("POST", "wit/wiql", {"query": query}) or {}
        ids = [str(item["id"]) for item in found.get("workItems", [])][:200]
        if not ids:
            return
        fields = "System.State,System.Description"
        items = self.request("GET", f"wit/workitems?ids={','.join(ids)}&fields={fields}") or {}
        for item in items.get("value", []):
            yield as_issue(item, self.where)

    def create(self, title: str, body: str, labels: list[str], fingerprint: str) -> Issue:
        """Files a new work item of AZURE_BOARDS_WORK_ITEM_TYPE."""
        tags = "; ".join([*labels, fingerprint_tag(fingerprint)])
        patch = [
            {"op": "add", "path": "/fields/System.Title", "value": title[:255]},
            {"op": "add", "path": "/fields/System.Description", "value": as_html(body)},
            {"op": "add", "path": "/fields/System.Tags", "value": tags},
        ]
        kind = urllib.parse.quote(self.work_item_type)
        item = self.request(
            "POST", f"wit/workitems/${kind}", patch, content_type="application/json-patch+json"
        )
        return as_issue(item, self.where)

    def reopen(self, issue: Issue) -> None:
        patch = [{"op": "add", "path": "/fields/System.State", "value": self.reopen_state}]
        self.request(
            "PATCH",
            f"wit/workitems/{issue.number}",
            patch,
            content_type="application/json-patch+json",
        )

    def comment(self, issue: Issue, text: str) -> None:
        path = f"wit/workItems/{issue.number}/comments"
        self.request("POST", path, {"text": as_html(text)}, version="7.1-preview.4")

    # Training (monitor.py).

    def dispatch(self, workflow: str, ref: str, reason: str) -> str:
        """Runs the pipeline named `workflow` on `ref`, with the reason as its parameter."""
        pipelines = self.request("GET", "pipelines") or {}
        found = [p for p in pipelines.get("value", []) if p.get("name") == workflow]
        if not found:
            raise AzureDevOpsError(f"there is no pipeline named `{workflow}` in {self.where}")
        body = {
            "resources": {"repositories": {"self": {"refName": f"refs/heads/{ref}"}}},
            "templateParameters": {"reason": reason[:1000]},
        }
        run = self.request("POST", f"pipelines/{found[0]['id']}/runs", body) or {}
        return f"ran the {workflow} pipeline on {ref} in {self.where} (run {run.get('id', '?')})"


def fingerprint_tag(fingerprint: str) -> str:
    return f"mlops-fp-{fingerprint}"


def as_html(markdown: str) -> str:
    """Work item text is HTML: the report, as it is written, in a preformatted block."""
    return f"<pre>{html.escape(markdown)}</pre>"


def as_issue(item: Mapping[str, Any], where: str) -> Issue:
    fields = item.get("fields") or {}
    number = int(item["id"])
    return Issue(
        number=number,
        open=fields.get("System.State") not in CLOSED_STATES,
        body=str(fields.get("System.Description") or ""),
        url=f"{where}/_workitems/edit/{number}",
    )


def from_env(environ: Mapping[str, str] = os.environ) -> AzureDevOps | None:
    """The client of the CI provider, for monitor.py."""
    return AzureDevOps.from_env(environ)


def tracker_from_env(environ: Mapping[str, str] = os.environ) -> AzureDevOps | None:
    """The client that files work items, for issues.py and monitor.py: the same one."""
    return AzureDevOps.from_env(environ)


def default_ref(environ: Mapping[str, str] = os.environ) -> str:
    """The branch training runs on: the one the monitor runs on, else main."""
    return environ.get(REF_ENV) or "main"


def run_context(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """Where a failure happened, as one Markdown line; the pipeline; its job."""
    pipeline = environ.get("BUILD_DEFINITIONNAME") or "local run"
    job = environ.get("SYSTEM_JOBDISPLAYNAME") or environ.get("AGENT_JOBNAME", "")
    where = f"pipeline `{pipeline}`" + (f", job `{job}`" if job else "")
    build = environ.get("BUILD_BUILDID")
    if build:
        server = environ.get(COLLECTION_ENV, "").rstrip("/")
        project = urllib.parse.quote(environ.get(PROJECT_ENV, ""))
        where += f" ([run {build}]({server}/{project}/_build/results?buildId={build}))"
    ref, sha = environ.get(REF_ENV), environ.get("BUILD_SOURCEVERSION")
    if ref or sha:
        where += f", on `{ref or '?'}` at `{(sha or '?')[:12]}`"
    return where, pipeline, job
