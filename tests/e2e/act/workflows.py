"""Runs every job of a generated project's GitHub workflows with act, offline, and checks what
the runs did: what they uploaded, registered, built and pushed, and what they asked of GitHub.

    python workflows.py run --project DIR --level N --env VENV --work DIR --act ACT \
        --hadolint HADOLINT --wheelhouse DIR
    python workflows.py pip-specs DIR    # what the workflows install with pip themselves

`run` is called with the network cut off (tests/e2e/run.sh). The project's git repository stands
in for the repository on GitHub (a clone of it on `main`, with origin github.com/e2e/demo); every
`uses:` of a hosted action is replaced by its stand-in in actions/ (see standins.py), `docker` by
bin/docker, and GitHub's API by a fake (fake_github.py). A run of a workflow is one act
invocation with the event GitHub would send; runs are numbered, so that a later run can download
an earlier run's artifacts by its id, as on GitHub. The scenario of each level (`scenario`) says
which jobs of each run must succeed, fail or be skipped, and checks their effects; at the end,
every job of every workflow must have run at least once.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fake_github import FakeGitHub

HERE = Path(__file__).resolve().parent
REPOSITORY = "e2e/demo"
OWNER_URL = f"https://github.com/{REPOSITORY}.git"
TOKEN = "ghs_e2eFakeToken0123456789"
REGISTRY = f"ghcr.io/{REPOSITORY}"
# What act says about itself on every run, left out of the log.
NOISE = ("LocalRepositoryCache", "Couldn't get a valid docker connection", "  ⚙  ::set-output::")
# Packages a workflow installs with pip itself, outside `make install`: `pip install "spec" ...`.
PIP_INSTALL = re.compile(r"pip install((?:\s+\"[^\"]+\")+)")


class ScenarioError(Exception):
    """A run did not do what the scenario expects."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioError(message)


def load_workflows(project: Path) -> dict[str, dict[str, Any]]:
    workflows = {}
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflows[path.name] = yaml.safe_load(path.read_text())
    return workflows


def pip_specs(project: Path) -> list[str]:
    specs = set()
    for path in (project / ".github" / "workflows").glob("*.yml"):
        for match in PIP_INSTALL.finditer(path.read_text()):
            specs |= set(re.findall(r"\"([^\"]+)\"", match.group(1)))
    return sorted(specs)


@dataclass
class Run:
    workflow: str
    run_id: int
    jobs: dict[str, str]
    log: Path
    seconds: float

    @property
    def succeeded(self) -> bool:
        """Whether every job that ran succeeded."""
        return bool(self.jobs) and set(self.jobs.values()) == {"success"}

    def output(self) -> str:
        lines = []
        for line in self.log.read_text().splitlines():
            try:
                lines.append(json.loads(line).get("msg", ""))
            except json.JSONDecodeError:
                lines.append(line)
        return "\n".join(lines)


@dataclass
class Harness:
    project: Path
    level: int
    env: Path
    work: Path
    act: Path
    hadolint: Path
    wheelhouse: Path
    origin: Path = field(init=False)
    workflows: dict[str, dict[str, Any]] = field(init=False)
    fake: FakeGitHub = field(init=False)
    api_url: str = field(init=False)
    next_run_id: int = field(init=False)
    keep_going: bool = False
    failures: list[str] = field(default_factory=list)
    ran: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next_run_id = 1000 * self.level + 1
        self.work.mkdir(parents=True, exist_ok=True)
        self.origin = self.work / "origin"
        git("clone", "--quiet", str(self.project), str(self.origin))
        git("-C", str(self.origin), "branch", "-M", "main")
        git("-C", str(self.origin), "remote", "set-url", "origin", OWNER_URL)
        self.workflows = load_workflows(self.origin)
        (self.work / "files").mkdir()
        self.fake = FakeGitHub(REPOSITORY, TOKEN, self.work / "files")
        self.server, self.api_url = self.fake.serve()
        self.write_jobs_table()

    @property
    def head(self) -> str:
        return git("-C", str(self.origin), "rev-parse", "HEAD")

    def write_jobs_table(self) -> None:
        """For the setup-python stand-in: which jobs install the project (`make install`)."""
        table = {}
        for workflow in self.workflows.values():
            for job_id, job in workflow.get("jobs", {}).items():
                runs = " ".join(step.get("run", "") for step in job.get("steps", []))
                table[f"{workflow['name']}/{job_id}"] = "make install" in runs
        (self.work / "jobs.json").write_text(json.dumps(table, indent=2))

    def local_repositories(self) -> list[str]:
        """`--local-repository` for every hosted action the workflows use: its stand-in."""
        options = set()
        for path in (self.origin / ".github" / "workflows").glob("*.yml"):
            for uses in re.findall(r"^\s*(?:-\s+)?uses:\s*([^\s#]+)", path.read_text(), re.M):
                if uses.startswith("./"):
                    continue
                name, _, ref = uses.partition("@")
                stand_in = HERE / "actions" / name.removeprefix("actions/")
                check(
                    name.startswith("actions/") and stand_in.is_dir(),
                    f"{path.name}: no stand-in for `{uses}` in {HERE / 'actions'}",
                )
                options.add(f"{name}@{ref}={stand_in}")
        return [option for each in sorted(options) for option in ("--local-repository", each)]

    def event(self, name: str, **payload: Any) -> dict[str, Any]:
        base = {
            "repository": {
                "full_name": REPOSITORY,
                "name": REPOSITORY.split("/")[1],
                "owner": {"login": REPOSITORY.split("/")[0]},
                "default_branch": "main",
            },
            "sender": {"login": "e2e-bot"},
        }
        if name in {"push", "workflow_dispatch"}:
            base["ref"] = "refs/heads/main"
        return {**base, **payload}

    def run(
        self,
        workflow: str,
        event_name: str,
        payload: dict[str, Any],
        expect: dict[str, str],
        *,
        secrets: dict[str, str] | None = None,
        variables: dict[str, str] | None = None,
        what: str = "",
    ) -> Run:
        """Runs `workflow` for one event; `expect` maps job ids to success or failure, and any
        job it leaves out must be skipped."""
        run_id = self.next_run_id
        self.next_run_id += 1
        directory = self.work / f"run-{run_id}"
        directory.mkdir()
        (directory / "event.json").write_text(json.dumps(payload))
        name = self.workflows[workflow]["name"]
        print(
            f"\n--- run {run_id}: {name} ({workflow}) on {event_name}{': ' + what if what else ''}",
            flush=True,
        )
        command = [
            str(self.act), event_name,
            "--workflows", str(self.origin / ".github" / "workflows" / workflow),
            "--eventpath", str(directory / "event.json"),
            "--directory", str(self.origin),
            "--platform", "ubuntu-latest=-self-hosted",
            "--action-cache-path", str(self.work / "act-cache"),
            "--no-cache-server",
            "--no-skip-checkout",
            "--concurrent-jobs", "1",
            "--defaultbranch", "main",
            "--actor", "e2e-bot",
            "--json",
            *self.local_repositories(),
            "--secret", f"GITHUB_TOKEN={TOKEN}",
        ]  # fmt: skip
        for key, value in (secrets or {}).items():
            command += ["--secret", f"{key}={value}"]
        for key, value in (variables or {}).items():
            command += ["--var", f"{key}={value}"]
        environment = {
            "GITHUB_RUN_ID": str(run_id),
            "GITHUB_RUN_NUMBER": str(run_id % 1000),
            "GITHUB_API_URL": self.api_url,
            "E2E_ORIGIN": str(self.origin),
            "E2E_STANDINS": str(HERE),
            "E2E_HARNESS_PYTHON": sys.executable,
            "E2E_PYTHON_ENV": str(self.env),
            "E2E_BASE_PYTHON": os.path.realpath(self.env / "bin" / "python"),
            "E2E_WHEELHOUSE": str(self.wheelhouse),
            "E2E_ARTIFACTS": str(self.work / "artifacts"),
            "E2E_DOCKER_STATE": str(directory / "docker"),
            "E2E_HADOLINT": str(self.hadolint),
            "E2E_JOBS": str(self.work / "jobs.json"),
            "E2E_WORKSPACE": str(self.work / "runner" / "work" / "demo" / "demo"),
        }
        for key, value in environment.items():
            command += ["--env", f"{key}={value}"]
        # The stand-in docker comes first on the runner's PATH.
        process_env = {**os.environ, "PATH": f"{HERE / 'bin'}:{os.environ['PATH']}"}
        started = time.monotonic()
        jobs: dict[str, str] = {}
        log = directory / "act.jsonl"
        with open(log, "w") as raw, subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, env=process_env,
        ) as act:  # fmt: skip
            assert act.stdout is not None
            for line in act.stdout:
                raw.write(line)
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    print(f"  {line.rstrip()}")
                    continue
                job = entry.get("jobID", "")
                if "jobResult" in entry:
                    jobs[job] = entry["jobResult"]
                message = entry.get("msg", "").rstrip()
                if message and entry.get("level") != "debug" and not message.startswith(NOISE):
                    print(f"  [{job or 'act'}] {message}", flush=True)
        seconds = time.monotonic() - started
        result = Run(workflow, run_id, jobs, log, seconds)
        self.runs.append(result)
        print(f"--- run {run_id}: {name} took {seconds:.1f} s: {jobs or 'no job ran'}", flush=True)
        for job_id, outcome in jobs.items():
            self.ran.setdefault((workflow, job_id), set()).add(outcome)
        outcomes = set(jobs.values())
        conclusion = "failure" if "failure" in outcomes else "success" if outcomes else "skipped"
        self.fake.runs.setdefault(workflow, []).append(
            {"id": run_id, "conclusion": conclusion, "head_branch": "main", "status": "completed"}
        )
        declared = set(self.workflows[workflow]["jobs"])
        check(
            set(expect) <= declared,
            f"{workflow}: the scenario names jobs it does not have: {set(expect) - declared}",
        )
        for job_id in sorted(declared):
            wanted, got = expect.get(job_id, "skipped"), jobs.get(job_id, "skipped")
            if wanted != got:
                message = f"run {run_id} ({workflow}): job `{job_id}` should be {wanted}, was {got}"
                check(self.keep_going, message)
                print(f"error (going on): {message}", file=sys.stderr)
                self.failures.append(message)
        return result

    def artifact(self, run: Run, name: str) -> Path:
        path = self.work / "artifacts" / str(run.run_id) / name
        check(path.is_dir(), f"run {run.run_id} ({run.workflow}) uploaded no artifact `{name}`")
        return path

    def pushed(self, run: Run) -> list[str]:
        path = self.work / f"run-{run.run_id}" / "docker" / "pushed.jsonl"
        return (
            [json.loads(line)["image"] for line in path.read_text().splitlines()]
            if path.exists()
            else []
        )

    def built(self, run: Run) -> list[list[str]]:
        path = self.work / f"run-{run.run_id}" / "docker" / "built.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["tags"] for line in lines]

    def every_job_ran(self) -> None:
        missing = [
            f"{workflow}/{job_id}"
            for workflow, definition in self.workflows.items()
            for job_id in definition["jobs"]
            if not self.ran.get((workflow, job_id))
        ]
        check(not missing, f"jobs that no run ran: {', '.join(missing)}")
        print("\nevery job of every workflow ran:")
        for (workflow, job_id), outcomes in sorted(self.ran.items()):
            print(f"  {workflow:<20} {job_id:<16} {', '.join(sorted(outcomes))}")
        total = sum(run.seconds for run in self.runs)
        print(f"{len(self.runs)} workflow runs in {total:.0f} s")


def git(*args: str) -> str:
    completed = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def registry_state(database: Path, model: str = "demo") -> dict[str, Any]:
    """The aliases and the gate verdicts of an MLflow registry database, read with sqlite3."""
    check(database.is_file(), f"no MLflow database at {database}")
    with sqlite3.connect(database) as connection:
        aliases = dict(
            connection.execute(
                "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (model,)
            ).fetchall()
        )
        tags = connection.execute(
            "SELECT version, key, value FROM model_version_tags WHERE name = ?", (model,)
        ).fetchall()
    by_version: dict[str, dict[str, str]] = {}
    for version, key, value in tags:
        by_version.setdefault(str(version), {})[key] = value
    return {"aliases": {k: str(v) for k, v in aliases.items()}, "tags": by_version}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check(process.poll() is None, f"the process serving {url} stopped")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise ScenarioError(f"{url} did not answer in {seconds:.0f} s")


@contextmanager
def mlflow_server(harness: Harness) -> Iterator[str]:
    """The team's MLflow server, as the secret MLFLOW_TRACKING_URI names it: here on loopback,
    with its database and artifacts in the work directory."""
    directory = harness.work / "mlflow-server"
    directory.mkdir()
    port = free_port()
    command = [
        str(harness.env / "bin" / "mlflow"), "server",
        "--backend-store-uri", f"sqlite:///{directory / 'mlflow.db'}",
        "--artifacts-destination", str(directory / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    environment = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(directory / "server.log", "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
        try:
            wait_for(f"http://127.0.0.1:{port}/health", server)
            print(f"MLflow server on http://127.0.0.1:{port}", flush=True)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    specs = commands.add_parser("pip-specs", help="what the workflows install with pip themselves")
    specs.add_argument("project", type=Path)
    run = commands.add_parser("run", help="run every job of every workflow")
    for option in ("project", "env", "work", "act", "hadolint", "wheelhouse"):
        run.add_argument(f"--{option}", type=Path, required=True)
    run.add_argument("--level", type=int, required=True)
    run.add_argument(
        "--keep-going", action="store_true", help="go on after a job that did not end as expected"
    )
    args = parser.parse_args()
    if args.command == "pip-specs":
        print("\n".join(pip_specs(args.project)))
        return 0
    # scenario.py imports this module by its name: let it find this one, not a second copy.
    sys.modules.setdefault("workflows", sys.modules[__name__])
    from scenario import scenario

    harness = Harness(
        args.project,
        args.level,
        args.env,
        args.work,
        args.act,
        args.hadolint,
        args.wheelhouse,
        keep_going=args.keep_going,
    )
    try:
        scenario(harness)
        harness.every_job_ran()
        check(
            not harness.failures,
            "jobs that did not end as expected:\n  " + "\n  ".join(harness.failures),
        )
    except ScenarioError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    finally:
        harness.server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
