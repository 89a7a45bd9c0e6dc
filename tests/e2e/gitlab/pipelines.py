"""Runs every job of a generated project's GitLab pipelines with gitlab-ci-local, offline, and
checks what the pipelines did: what they built and pushed, registered, triggered and filed.

    python pipelines.py run --project DIR --level N --env VENV --work DIR --gcl GITLAB_CI_LOCAL \
        --hadolint HADOLINT --wheelhouse DIR

Called with the network cut off (tests/e2e/run.sh). The project on GitLab is played by a clone of
the generated project on `main` with origin gitlab.com/e2e/demo; each pipeline is one
gitlab-ci-local run (`--force-shell-executor --shell-isolation`: every job's script runs on this
machine, in its own copy of the repository, with the artifacts of the jobs it needs), with the
variables GitLab would set for that kind of pipeline (a merge request, a tag, a pipeline run by
hand or through the trigger API, a schedule). gitlab-ci-local does not evaluate `workflow:rules`,
so the harness asks it to evaluate them as a job's rules before each pipeline: a pipeline the
workflow refuses is not run. The stand-ins are listed in tests/e2e/README.md: the container
engine (bin/container), the docker CLI (../act/bin/docker), GitLab's API (fake_gitlab.py), the
team's MLflow server, the Python environment of the case. At the end every job must have run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ACT = HERE.parent / "act"
sys.path[:0] = [str(HERE), str(ACT)]

from workflows import ScenarioError, check, mlflow_server, registry_state  # noqa: E402

from fake_gitlab import FakeGitLab  # noqa: E402

PROJECT_URL = "https://gitlab.com/e2e/demo.git"
PROJECT_ID = "1217"
TOKEN = "glpat-e2eFakeToken"
JOB_TOKEN = "glcbt-e2eFakeJobToken"
REGISTRY = "registry.gitlab.com/e2e/demo"
RESULT = re.compile(
    r"^\s*(PASS|FAIL|WARN)\s+(?:\S+\s+)?([\w:.-]+)\s*(?:pre_script|after_script)?\s*$"
)


@dataclass
class Pipeline:
    number: int
    what: str
    jobs: dict[str, str]
    work: Path
    seconds: float

    def artifacts(self, job: str) -> Path:
        return self.work / "state" / "artifacts" / job

    def log(self) -> str:
        return (self.work / "gcl.log").read_text()

    def pushed(self) -> list[str]:
        path = self.work / "docker" / "pushed.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["image"] for line in lines]

    def built(self) -> list[list[str]]:
        path = self.work / "docker" / "built.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["tags"] for line in lines]


@dataclass
class Harness:
    project: Path
    level: int
    env: Path
    work: Path
    gcl: Path
    hadolint: Path
    wheelhouse: Path
    clone: Path = field(init=False)
    jobs: dict[str, Any] = field(init=False)
    fake: FakeGitLab = field(init=False)
    api_url: str = field(init=False)
    ran: dict[str, set[str]] = field(default_factory=dict)
    pipelines: list[Pipeline] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        origin = self.work / "origin.git"
        git("clone", "--quiet", "--bare", str(self.project), str(origin))
        self.clone = self.work / "demo"
        git("clone", "--quiet", str(origin), str(self.clone))
        git("-C", str(self.clone), "branch", "-M", "main")
        git("-C", str(self.clone), "remote", "set-url", "origin", PROJECT_URL)
        git("-C", str(self.clone), "update-ref", "refs/remotes/origin/main", "HEAD")
        git(
            "-C",
            str(self.clone),
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        )
        (self.work / "files").mkdir()
        self.fake = FakeGitLab(PROJECT_ID, TOKEN, JOB_TOKEN, self.work / "files")
        self.server, self.api_url = self.fake.serve()
        self.jobs = self.listed({}, every=True)

    @property
    def origin(self) -> Path:
        """The repository the jobs run (the act harness's helpers read it by this name)."""
        return self.clone

    def command(self, work: Path, variables: dict[str, str], unset: list[str]) -> list[str]:
        command = [
            str(self.gcl),
            "--state-dir", os.path.relpath(work / "state", self.clone),
            "--force-shell-executor", "--shell-isolation", "--no-color", "--concurrency", "1",
            "--container-executable", str(HERE / "bin" / "container"),
            "--variables-file", "/nonexistent",
        ]  # fmt: skip
        defaults = {
            "CI_API_V4_URL": f"{self.api_url}/api/v4",
            "CI_PROJECT_ID": PROJECT_ID,
            "CI_JOB_TOKEN": JOB_TOKEN,
            "CI_REGISTRY": "registry.gitlab.com",
            "CI_REGISTRY_IMAGE": REGISTRY,
            "CI_REGISTRY_USER": "gitlab-ci-token",
            "CI_REGISTRY_PASSWORD": JOB_TOKEN,
        }
        for key, value in {**defaults, **variables}.items():
            command += ["--variable", f"{key}={value}"]
        for key in unset:
            command += ["--unset-variable", key]
        return command

    def listed(
        self, variables: dict[str, str], unset: list[str] | None = None, *, every: bool = False
    ) -> dict[str, str]:
        """The jobs of the pipeline these variables make (every job with `every`), and when each
        runs."""
        listing = "--list-csv-all" if every else "--list-csv"
        output = subprocess.run(
            [*self.command(self.work, variables, unset or []), listing],
            capture_output=True, text=True, check=True, env=self.environment(self.work),
            cwd=self.clone,
        ).stdout  # fmt: skip
        jobs = {}
        for line in output.splitlines():
            parts = line.split(";")
            if len(parts) >= 4 and parts[0] != "name":
                jobs[parts[0]] = parts[3]
        return jobs

    def workflow_admits(self, variables: dict[str, str], unset: list[str]) -> bool:
        """Whether GitLab would create the pipeline: `workflow:rules` evaluated by gitlab-ci-local
        as the rules of a job of their own."""
        rules = yaml.safe_load((self.clone / ".gitlab-ci.yml").read_text())["workflow"]["rules"]
        probe = self.work / "workflow-probe"
        probe.mkdir(exist_ok=True)
        (probe / ".gitlab-ci.yml").write_text(
            yaml.safe_dump({"workflow-probe": {"script": ["true"], "rules": rules}})
        )
        command = self.command(self.work, variables, unset)
        command += ["--file", os.path.relpath(probe / ".gitlab-ci.yml", self.clone), "--list-csv"]
        output = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            env=self.environment(self.work),
            cwd=self.clone,
        ).stdout
        return any(line.startswith("workflow-probe;") for line in output.splitlines())

    def environment(self, work: Path) -> dict[str, str]:
        """The runner's environment: the case's Python first on PATH (what `make install` finds,
        offline), the stand-in docker before it."""
        return {
            **os.environ,
            "PATH": f"{ACT / 'bin'}:{self.env / 'bin'}:{os.environ['PATH']}",
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "false",
            "PIP_FIND_LINKS": str(self.wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "E2E_DOCKER_STATE": str(work / "docker"),
            "E2E_CONTAINER_STATE": str(work / "containers"),
            "E2E_HADOLINT": str(self.hadolint),
        }

    def run(
        self,
        what: str,
        variables: dict[str, str],
        expect: dict[str, str],
        *,
        unset: list[str] | None = None,
        manual: list[str] | None = None,
    ) -> Pipeline:
        """Runs the pipeline these variables make; `expect` maps job names to success or failure,
        and every other job of the pipeline must not run."""
        number = len(self.pipelines) + 1
        work = self.work / f"pipeline-{number}"
        work.mkdir()
        unset = unset or []
        print(f"\n--- pipeline {number}: {what}", flush=True)
        if not self.workflow_admits(variables, unset) or not self.listed(variables, unset):
            check(
                not expect, f"pipeline {number}: the workflow refuses it, yet {expect} should run"
            )
            print(f"--- pipeline {number}: workflow:rules create no pipeline", flush=True)
            self.pipelines.append(Pipeline(number, what, {}, work, 0.0))
            return self.pipelines[-1]
        command = self.command(work, variables, unset)
        for job in manual or []:
            command += ["--manual", job]
        started = time.monotonic()
        with open(work / "gcl.log", "w") as log:
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=self.environment(work), stdin=subprocess.DEVNULL, cwd=self.clone,
            )  # fmt: skip
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                print(f"  {line.rstrip()}", flush=True)
            process.wait()
        seconds = time.monotonic() - started
        jobs: dict[str, str] = {}
        for line in (work / "gcl.log").read_text().splitlines():
            match = RESULT.match(line)
            if match and match[2] in self.jobs:
                outcome = {"PASS": "success", "FAIL": "failure", "WARN": "failure"}[match[1]]
                jobs[match[2]] = outcome
        pipeline = Pipeline(number, what, jobs, work, seconds)
        self.pipelines.append(pipeline)
        print(f"--- pipeline {number} took {seconds:.1f} s: {jobs or 'no job ran'}", flush=True)
        for job, outcome in jobs.items():
            self.ran.setdefault(job, set()).add(outcome)
        for job in sorted(set(expect) | set(jobs)):
            wanted, got = expect.get(job, "skipped"), jobs.get(job, "skipped")
            check(
                wanted == got,
                f"pipeline {number} ({what}): job `{job}` should be {wanted}, was {got}",
            )
        return pipeline

    def every_job_ran(self) -> None:
        missing = [job for job in self.jobs if not self.ran.get(job)]
        check(not missing, f"jobs that no pipeline ran: {', '.join(missing)}")
        print("\nevery job of every pipeline ran:")
        for job, outcomes in sorted(self.ran.items()):
            print(f"  {job:<28} {', '.join(sorted(outcomes))}")
        total = sum(pipeline.seconds for pipeline in self.pipelines)
        print(f"{len(self.pipelines)} pipelines in {total:.0f} s")


def git(*args: str) -> str:
    completed = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every job of every pipeline")
    for option in ("project", "env", "work", "gcl", "hadolint", "wheelhouse"):
        run.add_argument(f"--{option}", type=Path, required=True)
    run.add_argument("--level", type=int, required=True)
    args = parser.parse_args()
    sys.modules.setdefault("pipelines", sys.modules[__name__])
    from flow import scenario

    harness = Harness(
        args.project, args.level, args.env, args.work, args.gcl, args.hadolint, args.wheelhouse
    )
    try:
        scenario(harness, mlflow_server, registry_state)
        harness.every_job_ran()
    except ScenarioError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    finally:
        harness.server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
