"""Test doubles of the hosted actions that the generated workflows use, for act runs offline.

act runs every job of a generated workflow on this machine (`-P ubuntu-latest=-self-hosted`), but
it cannot download the actions the workflows use. The harness (`workflows.py`) replaces each
`actions/NAME@REF` with `actions/NAME/action.yml` beside this file, a composite action whose one
step runs `python standins.py NAME` with the action's inputs in `INPUT_*` variables. Each stand-in
does on this runner what the hosted action does on GitHub's, and fails where it would fail:

- checkout: clones the repository (the generated project's git repository, `E2E_ORIGIN`) at the
  ref asked for, or at the commit that triggered the run, into the workspace, shallow unless
  `fetch-depth: 0`; like the real action it leaves the token in `.git/config` unless
  `persist-credentials: false`, and points `origin` at github.com.
- setup-python: puts an interpreter of the requested version first on PATH. A job that installs
  the project (`make install`) gets the environment the suite installed before the network was
  cut (`E2E_PYTHON_ENV`), so `make install` runs for real, offline (no index, no build isolation);
  any other job gets a bare interpreter with pip, as on a runner, whose `pip install` finds only
  the wheels the harness downloaded for it (`E2E_WHEELHOUSE`). `cache: pip` fails, as on GitHub,
  when the workspace has no requirements.txt or pyproject.toml.
- upload-artifact and download-artifact: copy files to and from `E2E_ARTIFACTS/<run id>/<name>`,
  with the real actions' rules: the root of an upload is the common ancestor of its paths, hidden
  files are left out, a name is uploaded once per run, a download from another run needs a token,
  and a missing artifact fails the step.

Only the standard library: it runs with whichever Python the job has on PATH.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path


class StandInError(Exception):
    """What the hosted action would have failed with."""


def inputs(name: str, default: str = "") -> str:
    return os.environ.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip() or default


def flag(name: str, default: bool) -> bool:
    value = inputs(name, "true" if default else "false").lower()
    if value not in {"true", "false"}:
        raise StandInError(f"input `{name}` must be true or false, not `{value}`")
    return value == "true"


def workspace() -> Path:
    return Path(os.environ["GITHUB_WORKSPACE"])


def set_output(name: str, value: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as outputs:
        outputs.write(f"{name}={value}\n")


def set_env(name: str, value: str) -> None:
    with open(os.environ["GITHUB_ENV"], "a", encoding="utf-8") as environment:
        environment.write(f"{name}={value}\n")


def add_path(directory: Path) -> None:
    with open(os.environ["GITHUB_PATH"], "a", encoding="utf-8") as path:
        path.write(f"{directory}\n")


def git(*args: str, cwd: Path) -> str:
    completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise StandInError(f"`git {' '.join(args)}` failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def link_workspace() -> None:
    """Every job of every run gets the same workspace path, as on GitHub's runners
    (/home/runner/work/<repository>/<repository>), where act gives each job a directory of its own:
    what a job writes with absolute paths (an MLflow store's artifact locations) must mean the same
    in a later job. The job's workspace becomes a link to that one directory, emptied first, as a
    new runner's is."""
    shared = Path(os.environ["E2E_WORKSPACE"])
    if workspace().is_symlink():
        return
    shutil.rmtree(shared, ignore_errors=True)
    shared.mkdir(parents=True)
    if any(workspace().iterdir()):
        raise StandInError(f"the workspace {workspace()} is not empty before the checkout")
    workspace().rmdir()
    workspace().symlink_to(shared)


def checkout() -> None:
    repository = os.environ["GITHUB_REPOSITORY"]
    if inputs("repository", repository) != repository:
        raise StandInError(f"the stand-in checks out {repository} only, not {inputs('repository')}")
    # As the real action: the ref given, else the commit and ref of the event.
    ref = inputs("ref") or os.environ["GITHUB_SHA"]
    branch = ""
    if not inputs("ref") and os.environ.get("GITHUB_REF", "").startswith("refs/heads/"):
        branch = os.environ["GITHUB_REF"].removeprefix("refs/heads/")
    elif ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
    link_workspace()
    target = (workspace() / inputs("path", ".")).resolve()
    if target.exists() and flag("clean", True):
        for child in target.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    target.mkdir(parents=True, exist_ok=True)
    depth = inputs("fetch-depth", "1")
    git("init", "--quiet", cwd=target)
    git("remote", "add", "origin", f"file://{os.environ['E2E_ORIGIN']}", cwd=target)
    fetch = ["fetch", "--quiet", "--no-tags", "origin", ref]
    if depth != "0":
        fetch[1:1] = [f"--depth={depth}"]
    try:
        git(*fetch, cwd=target)
    except StandInError:
        # A branch or tag given by its short name, as the real action accepts.
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}"):
            try:
                git(*fetch[:-1], candidate, cwd=target)
                branch = ref if candidate.startswith("refs/heads/") else branch
                break
            except StandInError:
                continue
        else:
            raise StandInError(f"the ref `{ref}` is not in {repository}") from None
    if branch:
        git("checkout", "--quiet", "-B", branch, "FETCH_HEAD", cwd=target)
    else:
        git("checkout", "--quiet", "--detach", "FETCH_HEAD", cwd=target)
    git(
        "remote", "set-url", "origin", f"{os.environ['GITHUB_SERVER_URL']}/{repository}", cwd=target
    )
    token = inputs("token")
    if flag("persist-credentials", True) and token:
        header = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        key = f"http.{os.environ['GITHUB_SERVER_URL']}/.extraheader"
        git("config", "--local", key, f"AUTHORIZATION: basic {header}", cwd=target)
        print("checkout (stand-in): the token is persisted in .git/config")
    commit = git("rev-parse", "HEAD", cwd=target)
    print(f"checkout (stand-in): {repository} at {ref} ({commit}) in {target}")
    set_output("ref", ref)
    set_output("commit", commit)


def python_version(python: Path) -> str:
    code = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def job_installs_the_project() -> bool:
    """Whether the running job installs the project, from the harness's table of jobs."""
    jobs = json.loads(Path(os.environ["E2E_JOBS"]).read_text())
    key = f"{os.environ['GITHUB_WORKFLOW']}/{os.environ['GITHUB_JOB']}"
    if key not in jobs:
        raise StandInError(f"the harness did not say how to set up Python for `{key}`")
    return jobs[key]


def setup_python() -> None:
    requested = inputs("python-version")
    if not requested:
        raise StandInError("the stand-in needs `python-version`")
    if inputs("cache") == "pip":
        patterns = inputs("cache-dependency-path") or "**/requirements.txt\n**/pyproject.toml"
        found = [
            match
            for pattern in patterns.splitlines()
            for match in glob.glob(pattern.strip(), root_dir=workspace(), recursive=True)
        ]
        if not found:
            wanted = " or ".join(pattern.strip() for pattern in patterns.splitlines())
            raise StandInError(
                f"No file in {workspace()} matched to [{wanted}], make sure you have checked out "
                "the target repository"
            )
    if job_installs_the_project():
        prefix = Path(os.environ["E2E_PYTHON_ENV"])
        set_env("PIP_NO_BUILD_ISOLATION", "false")
        how = "the environment installed before going offline"
    else:
        prefix = Path(os.environ["RUNNER_TEMP"]) / "python"
        shutil.rmtree(prefix, ignore_errors=True)
        subprocess.run([os.environ["E2E_BASE_PYTHON"], "-m", "venv", prefix], check=True)
        set_env("PIP_FIND_LINKS", os.environ["E2E_WHEELHOUSE"])
        how = "a bare interpreter with pip"
    version = python_version(prefix / "bin" / "python")
    if not (version == requested or version.startswith(f"{requested}.")):
        raise StandInError(f"Python {requested} was asked for; the stand-in has {version}")
    # Offline: pip finds only what is installed, or the harness's wheels.
    set_env("PIP_NO_INDEX", "1")
    set_env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    set_env("pythonLocation", str(prefix))
    add_path(prefix / "bin")
    print(f"setup-python (stand-in): Python {version}, {how} ({prefix})")
    set_output("python-version", version)
    set_output("python-path", str(prefix / "bin" / "python"))
    set_output("cache-hit", "false")


def artifacts_of(run_id: str) -> Path:
    return Path(os.environ["E2E_ARTIFACTS"]) / run_id


def hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def upload_artifact() -> None:
    name = inputs("name", "artifact")
    destination = artifacts_of(os.environ["GITHUB_RUN_ID"]) / name
    root_of_run = workspace().resolve()
    include_hidden = flag("include-hidden-files", False)
    patterns = [line.strip() for line in inputs("path").splitlines() if line.strip()]
    if not patterns:
        raise StandInError("Input required and not supplied: path")
    included, excluded = set(), set()
    search_roots = []
    for pattern in patterns:
        exclude = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        absolute = (root_of_run / pattern).resolve()
        matches = [Path(m) for m in glob.glob(str(absolute), recursive=True, include_hidden=True)]
        files = set()
        for match in matches:
            files |= {p for p in match.rglob("*") if p.is_file()} if match.is_dir() else {match}
        if exclude:
            excluded |= files
            continue
        included |= files
        # The search path: the pattern up to its first wildcard.
        plain = Path(*[part for part in Path(pattern).parts if not any(c in part for c in "*?[")])
        search_roots.append((root_of_run / plain).resolve())
    files = sorted(
        path for path in included - excluded if include_hidden or not hidden(path, root_of_run)
    )
    if not files:
        how = inputs("if-no-files-found", "warn")
        message = (
            f"No files were found with the provided path: {inputs('path')}. "
            "No artifacts will be uploaded."
        )
        if how == "error":
            raise StandInError(message)
        print(f"{'warning: ' if how == 'warn' else ''}{message}")
        return
    if destination.exists():
        if not flag("overwrite", False):
            raise StandInError(
                f"Failed to CreateArtifact: an artifact with the name `{name}` already exists on "
                "this run (409 Conflict)"
            )
        shutil.rmtree(destination)
    roots = [root if root.is_dir() else root.parent for root in search_roots]
    common = Path(os.path.commonpath(roots)) if len(roots) > 1 else roots[0]
    for path in files:
        target = destination / path.relative_to(common)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    print(f"upload-artifact (stand-in): `{name}`, {len(files)} files, in {destination}")
    set_output("artifact-id", str(zlib.crc32(str(destination).encode())))
    set_output("artifact-url", f"{os.environ['GITHUB_SERVER_URL']}/artifacts/{name}")


def download_artifact() -> None:
    run_id = inputs("run-id")
    if run_id and not inputs("github-token"):
        raise StandInError("a download from another run (`run-id`) needs `github-token`")
    source = artifacts_of(run_id or os.environ["GITHUB_RUN_ID"])
    target = (workspace() / inputs("path", ".")).resolve()
    name = inputs("name")
    if name:
        if not (source / name).is_dir():
            raise StandInError(
                f"Unable to download artifact(s): Artifact not found for name: {name}"
            )
        shutil.copytree(source / name, target, dirs_exist_ok=True)
        print(f"download-artifact (stand-in): `{name}` of run {source.name} into {target}")
        return
    names = sorted(path.name for path in source.iterdir()) if source.is_dir() else []
    for each in names:
        into = target if flag("merge-multiple", False) else target / each
        shutil.copytree(source / each, into, dirs_exist_ok=True)
    print(
        f"download-artifact (stand-in): {len(names)} artifacts of run {source.name} into {target}"
    )


STAND_INS = {
    "checkout": checkout,
    "setup-python": setup_python,
    "upload-artifact": upload_artifact,
    "download-artifact": download_artifact,
}


def main() -> int:
    try:
        STAND_INS[sys.argv[1]]()
    except StandInError as error:
        print(f"::error::{sys.argv[1]} (stand-in): {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
