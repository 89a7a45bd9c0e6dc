"""The automatic release of a model version (`make release`).

Every version that passes the gate goes the same way, by CI (the Deploy model workflow, after each
successful Train run) or by hand (`python -m {{ package_name }}.release run`):

1. gate: the version (default: the `candidate`) is checked again against the champion of now, not
   the one it was trained against, so an older version never replaces a newer, better champion;
2. bundle: the version is exported to `build/model` (`make bundle`), the directory the serving
   image is built from, so the image serves exactly that version;
3. staging: the bundle is deployed with the target of `configs/deploy.yaml` (`local` by default:
   the application as a subprocess on a free port), which must serve that version;
4. release tests: `tests/release` runs against the staging URL (contract, latency, behaviour),
   with the token staging takes labels with (`FEEDBACK_TOKEN`; one of the release's own if unset);
5. production: the version becomes the `champion` (registry.promote, which records the previous
   champion), and staging is taken down.

What was deployed where is appended to `reports/release/deployments.jsonl` and tagged on the
version in MLflow (`release`, `release.staging`, `release.at`); `reports/release/release.md` is
the summary CI publishes. `make rollback` moves `champion` back to the version it replaced;
`make challenger VERSION=N` chooses the version the application compares with the champion.

Exit status: 0 released (or already the champion), 1 refused or failed (the gate, the deployment or
the release tests), 2 cannot run (nothing to release, a configuration to fix).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import compute, registry, tracking
from .deploy import Bundle, DeployError, Deployment, Target, TargetNotConfigured, now, target_for
from .deploy import load_config as load_deploy_config
from .score import BUNDLE_MANIFEST, BUNDLE_MODEL, _directory_sha256

# MLflow and the gate (which imports the training code) are imported where they are used: they
# take seconds, which `outputs` and `history`, reading a file each, need not wait for.
if TYPE_CHECKING:
    from mlflow import MlflowClient

    from . import gate

CHALLENGER = "challenger"
RELEASE_TAG = "release"
RELEASED, FAILED = "released", "failed"
ROLLED_BACK_AT_TAG = "rolled_back_at"
ROLLED_BACK_TO_TAG = "rolled_back_to"
BUNDLE_DIRECTORY = Path("build/model")
DEPLOYMENTS_DIRECTORY = Path("build/deployments")
RELEASE_TESTS = Path("tests/release")
REPORTS = Path("reports/release")
# What the gate reads and writes (gate.DEFAULT_CONFIG, gate.REPORTS / "gate.json").
GATES = Path("configs/gates.yaml")
GATE_REPORT = Path("reports/training/gate.json")
DEPLOYMENTS_LOG = REPORTS / "deployments.jsonl"
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class ReleaseError(Exception):
    """The release cannot run: nothing to release, or a version that does not exist."""


class ReleaseRefused(Exception):
    """The release ran and stopped: the gate, the deployment or the release tests said no."""


@dataclass(frozen=True)
class ReleaseResult:
    version: str
    outcome: str
    previous: str | None = None
    staging: Deployment | None = None
    gate_summary: str = ""


def context() -> dict[str, str]:
    """Where a record comes from: the code's commit and, in CI, the run's URL."""
    found = {"git_commit": tracking.git_tags()["git.commit"]}
    run_url = compute.describe().get("ci.run_url")
    if run_url:
        found["ci_run_url"] = run_url
    return found


def record(entry: dict[str, Any], log: Path = DEPLOYMENTS_LOG) -> dict[str, Any]:
    """Appends one line to the deployments log: what went where, when, and how it ended."""
    line = {"at": now(), "model": registry.MODEL_NAME, **entry, **context()}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")
    return line


def history(log: Path = DEPLOYMENTS_LOG) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def tag(client: MlflowClient, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(registry.MODEL_NAME, version, key, value)


def choose(client: MlflowClient, version: str | None) -> registry.RegisteredVersion:
    """The version to release: the one given, else the candidate."""
    if version is not None:
        try:
            return registry.get_version(client, version)
        except registry.RegistryError as error:
            raise ReleaseError(str(error)) from None
    candidate = registry.version_by_alias(client, registry.CANDIDATE)
    if candidate is None:
        raise ReleaseError(f"no `{registry.CANDIDATE}` to release: run `make train evaluate` first")
    return candidate


def export_bundle(
    client: MlflowClient, version: registry.RegisteredVersion, directory: Path = BUNDLE_DIRECTORY
) -> Bundle:
    """Exports `version` to `directory`: the MLflow model in `model/` and `release.json`, which
    says which version it is and where it came from. The serving image is built from it."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    model_directory = directory / BUNDLE_MODEL
    try:
        mlflow.artifacts.download_artifacts(
            artifact_uri=registry.model_uri(version.version), dst_path=str(model_directory)
        )
    except MlflowException as error:
        raise ReleaseError(f"cannot export version {version.version}: {error.message}") from None
    manifest = {
        "model": registry.MODEL_NAME,
        "version": version.version,
        "uri": registry.model_uri(version.version),
        "sha256": _directory_sha256(model_directory),
        "run_id": version.run_id,
        "gate": version.tags.get(registry.GATE_TAG),
        "data.sha256": version.tags.get("data.sha256"),
        "git.commit": version.tags.get("git.commit"),
        "bundled_at": now(),
    }
    (directory / BUNDLE_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Bundle.read(directory)


def run_release_tests(
    deployment: Deployment, tests: Path = RELEASE_TESTS, reports: Path = REPORTS
) -> bool:
    """Runs the release tests against the deployment's URL; True when they pass."""
    reports.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(tests),
        "-p",
        "no:cacheprovider",
        f"--junitxml={reports / 'release-tests.xml'}",
    ]
    environ = {
        **os.environ,
        "RELEASE_BASE_URL": deployment.url,
        "EXPECTED_MODEL_VERSION": deployment.version,
    }
    return subprocess.run(command, env=environ, check=False).returncode == 0


def release(
    client: MlflowClient,
    candidate: registry.RegisteredVersion,
    *,
    gate_config: gate.GateConfig,
    target: Target,
    run_tests: Callable[[Deployment], bool],
    bundle_directory: Path = BUNDLE_DIRECTORY,
    reports: Path = REPORTS,
    log: Path = DEPLOYMENTS_LOG,
    force: bool = False,
) -> ReleaseResult:
    """Gate, bundle, staging, release tests, champion: raises `ReleaseRefused` at the first no.
    A version that was rolled back is not released again unless `force`."""
    from . import gate

    version = candidate.version
    champion = registry.version_by_alias(client, registry.CHAMPION)
    if champion is not None and champion.version == version:
        print(f"release: version {version} is the champion already; nothing to do")
        return ReleaseResult(version, "unchanged", champion.version)
    rolled_back = candidate.tags.get(ROLLED_BACK_AT_TAG)
    if rolled_back and not force:
        raise ReleaseRefused(
            f"version {version} was rolled back at {rolled_back}; release it again with --force"
        )

    def refuse(outcome: str, message: str, **entry: Any) -> ReleaseRefused:
        record({"version": version, "outcome": outcome, **entry}, log)
        tag(client, version, {RELEASE_TAG: FAILED, f"{RELEASE_TAG}.at": now()})
        return ReleaseRefused(message)

    verdict = gate.run(gate_config, version=version, reports=reports)
    against = f"champion v{champion.version}" if champion else "no champion"
    print(f"gate: version {version} {'passes' if verdict.passed else 'fails'} ({against})")
    if not verdict.passed:
        message = f"version {version} fails the gate against {against}: {verdict.summary()}"
        raise refuse("refused-by-gate", message, environment="production")

    bundle = export_bundle(client, registry.get_version(client, version), bundle_directory)
    print(f"bundle: version {version} exported to {bundle.path} (sha256 {bundle.sha256[:12]})")

    try:
        deployment = target.deploy(bundle, "staging")
    except DeployError as error:
        raise refuse("staging-failed", f"staging: {error}", environment="staging") from None
    print(f"staging: version {version} serves on {deployment.url} ({deployment.target})")
    staging = {
        "environment": "staging",
        "target": deployment.target,
        "url": deployment.url,
        "deployed_at": deployment.deployed_at,
    }
    passed = False
    try:
        served = target.status(deployment).model_version
        if served != version:
            message = f"staging serves version {served}, not {version}"
            raise refuse("staging-failed", message, **staging)
        passed = run_tests(deployment)
    finally:
        if target.ephemeral or not passed:
            target.rollback(deployment)
    tag(client, version, {f"{RELEASE_TAG}.staging": f"{deployment.target} {deployment.url}"})
    if not passed:
        message = f"the release tests failed against {deployment.url}"
        raise refuse("release-tests-failed", message, **staging)
    record({"version": version, "outcome": "release-tests-passed", **staging}, log)
    print(f"release tests: passed against {deployment.url}")

    promotion = registry.promote(client, version)
    released_at = now()
    tag(client, version, {RELEASE_TAG: RELEASED, f"{RELEASE_TAG}.at": released_at})
    production = {
        "environment": "production",
        "target": "registry",
        "url": registry.model_uri(alias=registry.CHAMPION),
        "previous": promotion.previous,
    }
    record({"version": version, "outcome": "promoted", **production}, log)
    challenger = registry.version_by_alias(client, CHALLENGER)
    if challenger is not None and challenger.version == version:
        client.delete_registered_model_alias(registry.MODEL_NAME, CHALLENGER)
    before = f" (was version {promotion.previous})" if promotion.previous else ""
    print(f"production: version {version} is now `{registry.CHAMPION}`{before}")
    return ReleaseResult(version, "promoted", promotion.previous, deployment, verdict.summary())


def write_summary(result: ReleaseResult, reports: Path = REPORTS) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    content = {
        "model": registry.MODEL_NAME,
        **asdict(result),
        "staging": result.staging.to_dict() if result.staging else None,
    }
    (reports / "release.json").write_text(json.dumps(content, indent=2) + "\n")
    title = f"## Release of `{registry.MODEL_NAME}` version {result.version}: {result.outcome}"
    lines = [title, ""]
    if result.staging:
        staging = result.staging
        lines.append(f"- staging: {staging.target} at {staging.url}, release tests passed")
    if result.outcome == "promoted":
        previous = f", replacing version {result.previous}" if result.previous else ""
        lines.append(f"- production: `{registry.CHAMPION}` is version {result.version}{previous}")
    if result.gate_summary:
        lines.append(f"- gate: {result.gate_summary}")
    (reports / "release.md").write_text("\n".join(lines) + "\n")


def rollback(
    client: MlflowClient, to: str | None = None, log: Path = DEPLOYMENTS_LOG
) -> tuple[str, str]:
    """Moves `champion` back to the version it replaced (or to `to`); returns (from, to)."""
    champion = registry.version_by_alias(client, registry.CHAMPION)
    if champion is None:
        raise ReleaseError(f"there is no `{registry.CHAMPION}` to roll back")
    previous = to or champion.tags.get(registry.PREVIOUS_CHAMPION_TAG)
    if previous is None:
        raise ReleaseError(
            f"version {champion.version} records no previous champion: "
            "name the version to return to, as in `make rollback TO=N`"
        )
    try:
        restored = registry.get_version(client, previous)
    except registry.RegistryError as error:
        raise ReleaseError(str(error)) from None
    if restored.version == champion.version:
        raise ReleaseError(f"version {restored.version} is the champion already")
    registry.set_alias(client, registry.CHAMPION, restored.version)
    tag(client, champion.version, {ROLLED_BACK_AT_TAG: now(), ROLLED_BACK_TO_TAG: restored.version})
    record(
        {
            "version": restored.version,
            "outcome": "rolled-back",
            "environment": "production",
            "target": "registry",
            "url": registry.model_uri(alias=registry.CHAMPION),
            "previous": champion.version,
        },
        log,
    )
    return champion.version, restored.version


def set_challenger(client: MlflowClient, version: str) -> registry.RegisteredVersion:
    """Points `challenger` at a version that passed the gate and is not the champion."""
    try:
        chosen = registry.get_version(client, version)
    except registry.RegistryError as error:
        raise ReleaseError(str(error)) from None
    if chosen.tags.get(registry.GATE_TAG) != registry.PASSED:
        raise ReleaseError(f"version {chosen.version} has not passed the gate: it cannot serve")
    champion = registry.version_by_alias(client, registry.CHAMPION)
    if champion is not None and champion.version == chosen.version:
        raise ReleaseError(f"version {chosen.version} is the champion")
    registry.set_alias(client, CHALLENGER, chosen.version)
    return chosen


def release_outputs(version: str | None, gate_report: Path) -> str:
    """The version to release and its image tag, as GitHub step outputs: the version given, else
    the one the training run's gate report names, if it passed."""
    if not version:
        if not gate_report.is_file():
            raise ReleaseError(f"no version given and no gate report at {gate_report}")
        report = json.loads(gate_report.read_text())
        if not report.get("passed"):
            raise ReleaseError(f"{gate_report}: version {report.get('version')} failed the gate")
        version = str(report["version"])
    if not version.isdigit():
        raise ReleaseError(f"`{version}` is not a model version number")
    return f"version={version}\nimage-tag=model-v{version}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Release versions of `{registry.MODEL_NAME}`.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="gate, bundle, staging, release tests, champion")
    bundle_parser = commands.add_parser("bundle", help="export a version for the serving image")
    for sub in (run_parser, bundle_parser):
        sub.add_argument("--version", help="the version (default: the candidate)")
        sub.add_argument("--bundle", type=Path, default=BUNDLE_DIRECTORY, help="bundle directory")
    run_parser.add_argument("--gates", type=Path, default=GATES, help="gates.yaml")
    run_parser.add_argument("--deploy", type=Path, default=Path("configs/deploy.yaml"))
    run_parser.add_argument("--tests", type=Path, default=RELEASE_TESTS, help="release tests")
    run_parser.add_argument("--force", action="store_true", help="release a rolled-back version")
    rollback_parser = commands.add_parser("rollback", help="move champion back")
    rollback_parser.add_argument("--to", help="the version to return to (default: the previous)")
    challenger_parser = commands.add_parser("challenger", help="choose the A/B challenger")
    challenger_parser.add_argument("version", nargs="?", help="a version that passed the gate")
    challenger_parser.add_argument("--clear", action="store_true", help="remove the challenger")
    outputs_parser = commands.add_parser("outputs", help="the version to release, for GitHub")
    outputs_parser.add_argument("--version", default=os.environ.get("VERSION") or None)
    outputs_parser.add_argument(
        "--gate-report", type=Path, default=GATE_REPORT, help="training's gate.json"
    )
    commands.add_parser("history", help="what was deployed where")
    args = parser.parse_args(argv)

    if args.command == "outputs":
        try:
            print(release_outputs(args.version, args.gate_report), end="")
        except ReleaseError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    if args.command == "history":
        for entry in history():
            where = f"{entry.get('environment', '-')}/{entry.get('target', '-')}"
            outcome, url = entry["outcome"], entry.get("url", "")
            print(f"{entry['at']}  v{entry['version']:<4} {where:<22} {outcome:<21} {url}")
        return EXIT_OK

    from . import gate

    client = tracking.configure()
    try:
        if args.command == "rollback":
            was, restored = rollback(client, args.to)
            name, alias = registry.MODEL_NAME, registry.CHAMPION
            print(f"`{name}` version {restored} is `{alias}` again (was version {was})")
            return EXIT_OK
        if args.command == "challenger":
            if args.clear:
                client.delete_registered_model_alias(registry.MODEL_NAME, CHALLENGER)
                print(f"no `{CHALLENGER}`: the application serves the champion alone")
                return EXIT_OK
            if not args.version:
                raise ReleaseError("give the version to make the challenger, or --clear")
            chosen = set_challenger(client, args.version)
            print(f"version {chosen.version} is the `{CHALLENGER}` (served from the next start)")
            return EXIT_OK
        candidate = choose(client, args.version)
        if args.command == "bundle":
            bundle = export_bundle(client, candidate, args.bundle)
            print(f"bundle: version {bundle.version} exported to {bundle.path}")
            return EXIT_OK
        # Staging takes labels only with a token unless it listens on loopback (the docker target
        # listens on 0.0.0.0): one of this release's own unless FEEDBACK_TOKEN is set. The
        # service and the release tests get it from the environment.
        from .access import FEEDBACK_TOKEN_ENV

        os.environ.setdefault(FEEDBACK_TOKEN_ENV, secrets.token_urlsafe(24))
        target = target_for(load_deploy_config(args.deploy), DEPLOYMENTS_DIRECTORY)
        result = release(
            client,
            candidate,
            gate_config=gate.load_config(args.gates),
            target=target,
            run_tests=lambda deployment: run_release_tests(deployment, args.tests),
            bundle_directory=args.bundle,
            force=args.force,
        )
        write_summary(result)
        return EXIT_OK
    except (ReleaseError, TargetNotConfigured, gate.GateError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except ReleaseRefused as error:
        print(f"error: {error}; nothing was promoted", file=sys.stderr)
        REPORTS.mkdir(parents=True, exist_ok=True)
        (REPORTS / "release.md").write_text(f"## Release refused\n\n{error}\n")
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
