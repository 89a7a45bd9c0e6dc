"""Azure Pipelines cannot run outside Azure DevOps; this runner does what its agent would with a
generated project's pipelines, offline, and checks what the runs did.

    python pipelines.py run --project DIR --level N --env VENV --work DIR --hadolint HADOLINT \
        --wheelhouse DIR

For every pipeline file it expands the templates as Azure does (`- template:` steps with their
parameters, `${{ }}` template expressions) and checks that every `make` target a script step
calls exists in the Makefile. Then it runs the pipelines of each level's scenario (flow.py) as
Azure would run them for an event (a pull request, a push, a tag, a run by hand with parameters,
the completion of the Train pipeline, the schedule): stages in order with their `dependsOn` and
`condition`, variables (pipeline, stage, the variable groups the harness holds, runtime `$[ ]`
expressions, output variables and `stageDependencies`), and each job's steps in order in a shell,
with the job's workspace, its environment and `$(macro)` substitution. Tasks are played by
stand-ins, listed in tests/e2e/README.md: checkout, UsePythonVersion, Cache, PublishTestResults,
Publish/DownloadPipelineArtifact and `download:`, Docker@2 login; the docker CLI is the act
stand-in; the Azure DevOps API is fake_azure.py. Approvals and checks of environments are not
modelled: a deployment job runs as if approved.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ACT = HERE.parent / "act"
sys.path[:0] = [str(HERE), str(ACT)]

from workflows import ScenarioError, check, mlflow_server, registry_state  # noqa: E402

from expressions import (  # noqa: E402
    Evaluator,
    ExpressionError,
    as_text,
    expand_macros,
    expand_template_expressions,
    truthy,
)
from fake_azure import FakeAzureDevOps  # noqa: E402

ORGANISATION, PROJECT = "e2e", "demo"
TOKEN = "e2e-fake-access-token"
REGISTRY = "example.azurecr.io"
SET_VARIABLE = re.compile(r"##vso\[task\.setvariable variable=([\w.]+)(;[^\]]*)?\](.*)")
# `make [FLAGS] TARGET...` where a shell command starts: group 2 holds the targets.
MAKE = re.compile(
    r"(?:^|[;&|(][ \t]*|[ \t])make[ \t]+((?:-\S+[ \t]+)*)"
    r"([a-z][\w-]*(?:[ \t]+[a-z][\w-]*)*)",
    re.M,
)


@dataclass
class Run:
    pipeline: str
    run_id: int
    branch: str
    stages: dict[str, str]
    work: Path
    seconds: float
    log: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return "failed" not in self.stages.values()

    def artifact(self, name: str) -> Path:
        return self.work.parent / "artifacts" / str(self.run_id) / name

    def output(self) -> str:
        return "\n".join(self.log)

    def recorded(self, kind: str) -> list[dict[str, Any]]:
        path = self.work / "docker" / f"{kind}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class StepFailed(Exception):
    pass


@dataclass
class Harness:
    project: Path
    level: int
    env: Path
    work: Path
    hadolint: Path
    wheelhouse: Path
    origin: Path = field(init=False)
    files: dict[str, Path] = field(init=False)
    fake: FakeAzureDevOps = field(init=False)
    collection: str = field(init=False)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    ran: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    next_run_id: int = 0

    def __post_init__(self) -> None:
        self.next_run_id = 100 * self.level + 1
        self.work.mkdir(parents=True, exist_ok=True)
        self.origin = self.work / "origin"
        git("clone", "--quiet", str(self.project), str(self.origin))
        git("-C", str(self.origin), "branch", "-M", "main")
        self.files = {}
        for path in [
            self.origin / "azure-pipelines.yml",
            *sorted(self.origin.glob(".azure-pipelines/*.yml")),
        ]:
            name = re.search(r"name it\s*(?:#\s*)?`([^`]+)`", path.read_text())
            check(name is not None, f"{path.name} does not say what to name its pipeline")
            assert name is not None
            self.files[name.group(1)] = path
        (self.work / "files").mkdir()
        self.fake = FakeAzureDevOps(ORGANISATION, PROJECT, TOKEN, self.work / "files")
        self.fake.pipelines = {name: index + 1 for index, name in enumerate(self.files)}
        self.server, self.collection = self.fake.serve()
        for group in ("mlflow-staging", "mlflow-production", "monitoring"):
            self.groups[group] = {}

    # Compiling: templates and template expressions.

    def compile(self, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
        path = self.files[name]
        definition = yaml.safe_load(path.read_text())
        declared = {p["name"]: p for p in definition.get("parameters", [])}
        unknown = set(parameters) - set(declared)
        check(not unknown, f"{name}: no parameters {sorted(unknown)}")
        values = {}
        for key, parameter in declared.items():
            check(key in parameters or "default" in parameter, f"{name}: `{key}` is required")
            values[key] = parameters.get(key, parameter.get("default"))
        definition = expand_template_expressions(definition, values)
        return self.expand_templates(definition, path.parent)

    def expand_templates(self, node: Any, directory: Path) -> Any:
        if isinstance(node, dict):
            return {key: self.expand_templates(value, directory) for key, value in node.items()}
        if not isinstance(node, list):
            return node
        expanded = []
        for item in node:
            if (
                isinstance(item, dict)
                and "template" in item
                and len(set(item) - {"template", "parameters"}) == 0
            ):
                path = directory / item["template"]
                check(path.is_file(), f"the template {item['template']} is not in {directory}")
                template = yaml.safe_load(path.read_text())
                declared = {p["name"]: p for p in template.get("parameters", [])}
                given = item.get("parameters") or {}
                check(
                    set(given) <= set(declared),
                    f"{path.name}: no parameters {set(given) - set(declared)}",
                )
                values = {k: given.get(k, p.get("default")) for k, p in declared.items()}
                body = expand_template_expressions(
                    {k: v for k, v in template.items() if k != "parameters"}, values
                )
                check(list(body) == ["steps"], f"{path.name}: only step templates are expected")
                expanded += self.expand_templates(body["steps"], path.parent)
            else:
                expanded.append(self.expand_templates(item, directory))
        return expanded

    def stages_of(self, definition: dict[str, Any]) -> list[dict[str, Any]]:
        if "stages" in definition:
            return definition["stages"]
        return [{"stage": "__default", "jobs": definition["jobs"]}]

    @staticmethod
    def steps_of(job: dict[str, Any]) -> list[dict[str, Any]]:
        if "steps" in job:
            return job["steps"]
        return job["strategy"]["runOnce"]["deploy"]["steps"]

    def check_make_targets(self) -> None:
        """Every `make TARGET` of every script step names a target of the Makefile."""
        makefile = (self.origin / "Makefile").read_text()
        targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
        checked = 0
        for name in self.files:
            definition = self.compile(name, self.required_parameters(name))
            for stage in self.stages_of(definition):
                for job in stage["jobs"]:
                    for step in self.steps_of(job):
                        for match in MAKE.finditer(step.get("script", "")):
                            for target in match.group(2).split():
                                if "=" in target:
                                    break
                                check(
                                    target in targets,
                                    f"{name}: `make {target}` has no target in the Makefile",
                                )
                                checked += 1
        print(f"{len(self.files)} pipelines expanded; {checked} make targets called, all defined")

    def required_parameters(self, name: str) -> dict[str, str]:
        definition = yaml.safe_load(self.files[name].read_text())
        return {p["name"]: "1" for p in definition.get("parameters", []) if "default" not in p}

    # Running.

    def run(
        self,
        name: str,
        reason: str,
        expect: dict[str, str],
        *,
        branch: str = "refs/heads/main",
        parameters: dict[str, Any] | None = None,
        variables: dict[str, str] | None = None,
        resource: Run | None = None,
        what: str = "",
    ) -> Run:
        """Runs pipeline `name` for an event; `expect` maps stages to succeeded or failed, and
        every other stage must be skipped."""
        run_id = self.next_run_id
        self.next_run_id += 1
        work = self.work / f"run-{run_id}"
        work.mkdir()
        print(
            f"\n--- run {run_id}: {name} ({reason}, {branch}){': ' + what if what else ''}",
            flush=True,
        )
        started = time.monotonic()
        definition = self.compile(name, parameters or {})
        commit = git("-C", str(self.origin), "rev-parse", "HEAD")
        base: dict[str, str] = {
            "Build.BuildId": str(run_id),
            "Build.DefinitionName": name,
            "Build.Reason": reason,
            "Build.SourceBranch": branch,
            "Build.SourceBranchName": branch.rsplit("/", 1)[-1],
            "Build.SourceVersion": commit,
            "Build.Repository.Uri": f"https://dev.azure.com/{ORGANISATION}/{PROJECT}/_git/{PROJECT}",
            "System.DefinitionId": str(self.fake.pipelines[name]),
            "System.TeamProject": PROJECT,
            "System.TeamProjectId": "00000000-0000-0000-0000-000000000001",
            "System.CollectionUri": self.collection,
            "Agent.OS": "Linux",
        }
        if resource is not None:
            base["resources.pipeline.train.runID"] = str(resource.run_id)
            base["resources.pipeline.train.sourceBranch"] = resource.branch
        else:
            base["resources.pipeline.train.runID"] = ""
            base["resources.pipeline.train.sourceBranch"] = ""
        declared = self.variables(definition.get("variables"), base)
        pipeline_variables = {**base, **declared, **(variables or {})}
        result = Run(name, run_id, branch, {}, work, 0.0)
        self.runs.append(result)
        outputs: dict[str, dict[str, str]] = {}
        previous: str | None = None
        for stage in self.stages_of(definition):
            stage_name = stage["stage"]
            depends = stage.get("dependsOn", [previous] if previous else [])
            depends = [depends] if isinstance(depends, str) else depends
            outcomes = [result.stages.get(d, "skipped") for d in depends]
            status = {
                "succeeded": all(o == "succeeded" for o in outcomes),
                "failed": any(o == "failed" for o in outcomes),
                "succeededorfailed": True,
            }
            lookup = self.lookup(pipeline_variables, outputs)
            condition = stage.get("condition", "succeeded()")
            try:
                runs = truthy(Evaluator(lookup, status).evaluate(condition))
            except ExpressionError as error:
                raise ScenarioError(f"{name}, stage {stage_name}: {error}") from None
            previous = stage_name
            if not runs:
                result.stages[stage_name] = "skipped"
                print(f"  [{stage_name}] skipped ({condition})", flush=True)
                continue
            stage_variables = {
                **pipeline_variables,
                **self.variables(stage.get("variables"), pipeline_variables, outputs),
            }
            stage_result = "succeeded"
            for job in stage["jobs"]:
                job_name = job.get("job") or job.get("deployment")
                ok = self.run_job(result, stage_name, job_name, job, stage_variables, outputs)
                self.ran.setdefault((name, f"{stage_name}/{job_name}"), set()).add(
                    "succeeded" if ok else "failed"
                )
                if not ok:
                    stage_result = "failed"
            result.stages[stage_name] = stage_result
        result.seconds = time.monotonic() - started
        print(f"--- run {run_id}: {name} took {result.seconds:.1f} s: {result.stages}", flush=True)
        for stage_name in result.stages:
            wanted, got = expect.get(stage_name, "skipped"), result.stages[stage_name]
            check(
                wanted == got,
                f"run {run_id} ({name}): stage `{stage_name}` should be {wanted}, was {got}",
            )
        check(
            set(expect) <= set(result.stages),
            f"{name} has no stages {set(expect) - set(result.stages)}",
        )
        return result

    def variables(
        self,
        declared: Any,
        known: dict[str, str],
        outputs: dict[str, dict[str, str]] | None = None,
    ) -> dict[str, str]:
        items: list[dict[str, Any]] = []
        if isinstance(declared, dict):
            items = [{"name": key, "value": value} for key, value in declared.items()]
        elif isinstance(declared, list):
            items = declared
        values: dict[str, str] = {}
        for item in items:
            if "group" in item:
                check(item["group"] in self.groups, f"no variable group `{item['group']}`")
                values.update(self.groups[item["group"]])
                continue
            value = as_text(item["value"])
            runtime = re.fullmatch(r"\$\[(.*)\]", value.strip(), re.S)
            if runtime:
                lookup = self.lookup({**known, **values}, outputs or {})
                value = as_text(Evaluator(lookup).evaluate(runtime.group(1)))
            else:
                value = expand_macros(value, {**known, **values})
            values[item["name"]] = value
        return values

    @staticmethod
    def lookup(variables: dict[str, str], outputs: dict[str, dict[str, str]]) -> Any:
        lowered = {key.lower(): value for key, value in variables.items()}

        def find(name: str) -> Any:
            match = re.fullmatch(r"variables(?:\.([\w.]+)|\['([^']+)'\])", name)
            if match:
                return lowered.get((match.group(1) or match.group(2)).lower(), "")
            match = re.fullmatch(r"stageDependencies\.(\w+)\.(\w+)\.outputs\['([\w.]+)'\]", name)
            if match:
                return outputs.get(f"{match.group(1)}.{match.group(2)}", {}).get(match.group(3), "")
            raise ExpressionError(f"the runner does not know `{name}`")

        return find

    def run_job(
        self,
        run: Run,
        stage: str,
        job_name: str,
        job: dict[str, Any],
        variables: dict[str, str],
        outputs: dict[str, dict[str, str]],
    ) -> bool:
        workspace = run.work / f"{stage}-{job_name}"
        sources = workspace / "s"
        sources.mkdir(parents=True)
        job_variables = {
            **variables,
            **self.variables(job.get("variables"), variables, outputs),
            "Pipeline.Workspace": str(workspace),
            "Build.SourcesDirectory": str(sources),
            "System.DefaultWorkingDirectory": str(sources),
            "Agent.JobName": job_name,
            "System.JobDisplayName": job.get("displayName", job_name),
            "System.AccessToken": TOKEN,
        }
        environment = {"PATH": f"{ACT / 'bin'}:{os.environ['PATH']}"}
        steps = list(self.steps_of(job))
        if "job" in job and not any("checkout" in step for step in steps):
            steps.insert(0, {"checkout": "self"})
        failed = False
        job_outputs: dict[str, str] = {}
        for step in steps:
            condition = step.get("condition", "succeeded()")
            status = {"succeeded": not failed, "failed": failed, "succeededorfailed": True}
            if not truthy(
                Evaluator(self.lookup(job_variables, outputs), status).evaluate(condition)
            ):
                continue
            label = step.get("displayName") or step.get("script", step.get("task", ""))[:60]
            try:
                self.run_step(
                    run, step, job_variables, environment, sources, workspace, job_outputs
                )
                print(f"  [{stage}/{job_name}] ok: {label}", flush=True)
            except StepFailed as error:
                print(f"  [{stage}/{job_name}] failed: {label}: {error}", flush=True)
                run.log.append(f"failed: {label}: {error}")
                if not step.get("continueOnError"):
                    failed = True
        deployment = job_name
        outputs[f"{stage}.{deployment}"] = {
            (f"{deployment}.{key}" if "deployment" in job else key): value
            for key, value in job_outputs.items()
        }
        return not failed

    def run_step(
        self,
        run: Run,
        step: dict[str, Any],
        variables: dict[str, str],
        environment: dict[str, str],
        sources: Path,
        workspace: Path,
        outputs: dict[str, str],
    ) -> None:
        inputs = {
            k: expand_macros(as_text(v), variables) for k, v in (step.get("inputs") or {}).items()
        }
        if "checkout" in step:
            check(step["checkout"] == "self", "only `checkout: self` is expected")
            git("clone", "--quiet", f"file://{self.origin}", str(sources))
            check(
                truthy(step.get("persistCredentials", False)) is False, "a checkout keeps the token"
            )
            return
        if "download" in step:
            resource_run = variables.get("resources.pipeline.train.runID", "")
            source = self.work / "artifacts" / resource_run / step["artifact"]
            if not resource_run or not source.is_dir():
                raise StepFailed(f"no artifact `{step['artifact']}` in run {resource_run or '?'}")
            shutil.copytree(
                source, workspace / step["download"] / step["artifact"], dirs_exist_ok=True
            )
            return
        task = step.get("task")
        if task is not None:
            self.run_task(run, task, inputs, variables, environment, sources)
            return
        script = expand_macros(step["script"], variables)
        env = {
            **os.environ,
            **{
                k.upper().replace(".", "_"): v
                for k, v in variables.items()
                if k != "System.AccessToken"
            },
            **environment,
            **{k: expand_macros(as_text(v), variables) for k, v in (step.get("env") or {}).items()},
            "E2E_DOCKER_STATE": str(run.work / "docker"),
            "E2E_HADOLINT": str(self.hadolint),
        }
        path = workspace / f"step-{len(list(workspace.glob('step-*.sh')))}.sh"
        path.write_text(script)
        process = subprocess.run(
            ["bash", "--noprofile", "--norc", str(path)], cwd=sources, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for line in process.stdout.splitlines():
            print(f"    {line}", flush=True)
            run.log.append(line)
            match = SET_VARIABLE.match(line)
            if match:
                # An output variable is `step.name` to the job's later steps and to other jobs;
                # a plain one is `name`, to the job's later steps only.
                name = (
                    f"{step['name']}.{match.group(1)}"
                    if "isOutput=true" in (match.group(2) or "")
                    else match.group(1)
                )
                if name != match.group(1):
                    outputs[name] = match.group(3)
                variables[name] = match.group(3)
        if process.returncode != 0:
            raise StepFailed(f"exit {process.returncode}")

    def run_task(
        self,
        run: Run,
        task: str,
        inputs: dict[str, str],
        variables: dict[str, str],
        environment: dict[str, str],
        sources: Path,
    ) -> None:
        artifacts = self.work / "artifacts"
        if task == "UsePythonVersion@0":
            code = "import sys; print('%d.%d' % sys.version_info[:2])"
            python = self.env / "bin" / "python"
            version = subprocess.run(
                [python, "-c", code], capture_output=True, text=True, check=True
            ).stdout.strip()
            if version != inputs["versionSpec"]:
                raise StepFailed(f"Python {inputs['versionSpec']} asked for, {version} here")
            environment["PATH"] = f"{ACT / 'bin'}:{self.env / 'bin'}:{os.environ['PATH']}"
            environment.update(
                {
                    "PIP_NO_INDEX": "1",
                    "PIP_NO_BUILD_ISOLATION": "false",
                    "PIP_FIND_LINKS": str(self.wheelhouse),
                }
            )
        elif task == "Cache@2":
            if not inputs.get("key") or not inputs.get("path"):
                raise StepFailed("Cache@2 needs a key and a path")
        elif task == "PublishTestResults@2":
            report = sources / inputs["testResultsFiles"]
            if not report.is_file():
                raise StepFailed(f"no test results at {inputs['testResultsFiles']}")
            suites = ElementTree.parse(report).getroot()
            check(suites.tag in {"testsuites", "testsuite"}, f"{report} is not a JUnit report")
        elif task == "PublishPipelineArtifact@1":
            source = sources / inputs["targetPath"]
            if not source.exists():
                raise StepFailed(f"no path {inputs['targetPath']} to publish")
            target = artifacts / str(run.run_id) / inputs["artifact"]
            if target.exists():
                raise StepFailed(f"the artifact `{inputs['artifact']}` was published already")
            shutil.copytree(source, target) if source.is_dir() else shutil.copy2(source, target)
        elif task == "DownloadPipelineArtifact@2":
            source_run = str(run.run_id)
            if inputs.get("buildType") == "specific":
                definition = inputs.get("definition", "")
                if inputs.get("buildVersionToDownload") == "specific":
                    source_run = inputs.get("pipelineId", "")
                else:
                    names = {str(i): n for n, i in self.fake.pipelines.items()}
                    name = names.get(definition, definition)
                    earlier = [r for r in self.runs[:-1] if r.pipeline == name and r.succeeded]
                    if not earlier:
                        raise StepFailed(f"no successful run of {name}")
                    source_run = str(earlier[-1].run_id)
            source = artifacts / source_run / inputs["artifactName"]
            if not source.is_dir():
                raise StepFailed(
                    f"Artifact {inputs['artifactName']} was not found for run {source_run}"
                )
            shutil.copytree(source, sources / inputs.get("targetPath", "."), dirs_exist_ok=True)
        elif task == "Docker@2":
            if inputs.get("command") != "login" or inputs.get("containerRegistry") != "registry":
                raise StepFailed(
                    f"the stand-in logs in to the service connection `registry` only: {inputs}"
                )
            env = {**os.environ, **environment, "E2E_DOCKER_STATE": str(run.work / "docker")}
            login = ["docker", "login", REGISTRY, "--username", "connection", "--password-stdin"]
            subprocess.run(login, input="x", text=True, env=env, check=True, capture_output=True)
        else:
            raise StepFailed(f"no stand-in for the task {task}")

    def every_job_ran(self) -> None:
        missing = []
        for name in self.files:
            definition = self.compile(name, self.required_parameters(name))
            for stage in self.stages_of(definition):
                for job in stage["jobs"]:
                    key = (name, f"{stage['stage']}/{job.get('job') or job.get('deployment')}")
                    if key not in self.ran:
                        missing.append(f"{key[0]}: {key[1]}")
        check(not missing, f"jobs that no run ran: {', '.join(missing)}")
        print("\nevery job of every pipeline ran:")
        for (name, job), outcomes in sorted(self.ran.items()):
            print(f"  {name:<16} {job:<28} {', '.join(sorted(outcomes))}")
        total = sum(run.seconds for run in self.runs)
        print(f"{len(self.runs)} pipeline runs in {total:.0f} s")


def git(*args: str) -> str:
    completed = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="expand every pipeline and run every job")
    for option in ("project", "env", "work", "hadolint", "wheelhouse"):
        run.add_argument(f"--{option}", type=Path, required=True)
    run.add_argument("--level", type=int, required=True)
    args = parser.parse_args()
    sys.modules.setdefault("pipelines", sys.modules[__name__])
    from flow import scenario

    harness = Harness(args.project, args.level, args.env, args.work, args.hadolint, args.wheelhouse)
    try:
        harness.check_make_targets()
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
