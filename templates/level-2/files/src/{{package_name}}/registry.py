"""The model registry: the versions of the model, the aliases that name them, and releases.

Conventions, which the gate, the release workflow and later levels rely on:

- the registered model is named after the package: `{{ package_name }}`;
- each training run registers a new version and moves the alias `candidate` to it;
- the gate (`make evaluate`) tags the version it checked `gate=passed` or `gate=failed`;
- `champion` is the released version. Only `promote` moves it, by hand at this level and only to
  a version that passed the gate; the promoted version records `previous_champion`, so a release
  can be undone.

`python -m {{ package_name }}.registry list` shows the versions;
`... promote VERSION` releases one.
Every function takes the MLflow client to use (see `tracking.configure`) and speaks of versions
as `RegisteredVersion`: the version number as a string, whatever the tracking store returns.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import tracking

# MLflow is imported where it is used: it takes seconds, which commands that only read files
# (release.py's `outputs` and `history`) need not wait for.
if TYPE_CHECKING:
    from mlflow import MlflowClient

MODEL_NAME = "{{ package_name }}"
CANDIDATE = "candidate"
CHAMPION = "champion"
GATE_TAG = "gate"
PASSED = "passed"
FAILED = "failed"
PREVIOUS_CHAMPION_TAG = "previous_champion"
PROMOTED_AT_TAG = "promoted_at"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


class RegistryError(Exception):
    """A version that does not exist, or a promotion the registry refuses."""


@dataclass(frozen=True)
class RegisteredVersion:
    version: str
    run_id: str
    source: str
    aliases: list[str]
    tags: dict[str, str]
    created: datetime

    @classmethod
    def of(cls, entity: Any) -> RegisteredVersion:
        """From MLflow's `ModelVersion`, whose `version` is an int or a str, by store."""
        return cls(
            version=str(entity.version),
            run_id=entity.run_id or "",
            source=entity.source,
            aliases=sorted(entity.aliases or []),
            tags=dict(entity.tags or {}),
            created=datetime.fromtimestamp(entity.creation_timestamp / 1000, UTC),
        )


@dataclass(frozen=True)
class Promotion:
    version: str
    previous: str | None


def model_uri(version: str | int | None = None, *, alias: str | None = None) -> str:
    """`models:/<name>/<version>` or `models:/<name>@<alias>`, the URIs MLflow loads models from."""
    if (version is None) == (alias is None):
        raise ValueError("give a version or an alias")
    return f"models:/{MODEL_NAME}/{version}" if alias is None else f"models:/{MODEL_NAME}@{alias}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def register(
    client: MlflowClient,
    source: str,
    *,
    run_id: str,
    tags: dict[str, str] | None = None,
    model_id: str | None = None,
) -> RegisteredVersion:
    """Registers the logged model at `source` as a new version and moves `candidate` to it."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(MODEL_NAME)
    except MlflowException as error:
        if error.error_code != NOT_FOUND:
            raise
        client.create_registered_model(
            MODEL_NAME, description="Registered by the training pipeline (make train)."
        )
    version = client.create_model_version(
        MODEL_NAME, source, run_id=run_id, tags=tags, model_id=model_id
    )
    set_alias(client, CANDIDATE, version.version)
    return get_version(client, str(version.version))


def set_alias(client: MlflowClient, alias: str, version: str | int) -> None:
    client.set_registered_model_alias(MODEL_NAME, alias, str(version))


def get_version(client: MlflowClient, version: str | int) -> RegisteredVersion:
    from mlflow.exceptions import MlflowException

    try:
        return RegisteredVersion.of(client.get_model_version(MODEL_NAME, str(version)))
    except MlflowException as error:
        if error.error_code == NOT_FOUND:
            raise RegistryError(f"`{MODEL_NAME}` has no version {version}") from None
        raise


def version_by_alias(client: MlflowClient, alias: str) -> RegisteredVersion | None:
    """The version `alias` points to; `None` if no version holds it or nothing is registered."""
    from mlflow.exceptions import MlflowException

    try:
        aliases = client.get_registered_model(MODEL_NAME).aliases
    except MlflowException as error:
        if error.error_code == NOT_FOUND:
            return None
        raise
    version = aliases.get(alias)
    return None if version is None else get_version(client, version)


def versions(client: MlflowClient) -> list[RegisteredVersion]:
    """Every registered version, oldest first."""
    # Searching does not return the aliases of each version; getting it does.
    found = client.search_model_versions(f"name = '{MODEL_NAME}'")
    numbers = sorted(int(entity.version) for entity in found)
    return [get_version(client, number) for number in numbers]


def record_gate(client: MlflowClient, version: str | int, passed: bool, summary: str) -> None:
    """Tags `version` with the gate's verdict, its time and a one-line summary of the checks."""
    verdict = PASSED if passed else FAILED
    for key, value in {
        GATE_TAG: verdict,
        f"{GATE_TAG}.checked_at": now(),
        f"{GATE_TAG}.summary": summary[:4000],
    }.items():
        client.set_model_version_tag(MODEL_NAME, str(version), key, value)


def promote(client: MlflowClient, version: str | int, *, force: bool = False) -> Promotion:
    """Moves `champion` to `version`, which must have passed the gate unless `force`."""
    chosen = get_version(client, version)
    verdict = chosen.tags.get(GATE_TAG)
    if verdict != PASSED and not force:
        state = f"the gate said `{verdict}`" if verdict else "the gate has not checked it"
        raise RegistryError(
            f"version {chosen.version} cannot be promoted: {state}; run `make evaluate` on it, "
            "or pass --force to release it anyway"
        )
    previous = version_by_alias(client, CHAMPION)
    set_alias(client, CHAMPION, chosen.version)
    client.set_model_version_tag(MODEL_NAME, chosen.version, PROMOTED_AT_TAG, now())
    if previous is not None and previous.version != chosen.version:
        client.set_model_version_tag(
            MODEL_NAME, chosen.version, PREVIOUS_CHAMPION_TAG, previous.version
        )
    return Promotion(chosen.version, None if previous is None else previous.version)


def describe(version: RegisteredVersion) -> str:
    aliases = ",".join(version.aliases) or "-"
    gate = version.tags.get(GATE_TAG, "-")
    when = f"{version.created:%Y-%m-%d %H:%M}"
    return f"{version.version:>7}  {aliases:<20} {gate:<7} {when:<16}  {version.run_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"The registered versions of `{MODEL_NAME}`.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the versions, their aliases and gate verdicts")
    promote_parser = commands.add_parser("promote", help="release a version as the champion")
    promote_parser.add_argument("version", help="the model version to promote")
    promote_parser.add_argument(
        "--force", action="store_true", help="promote even if it has not passed the gate"
    )
    args = parser.parse_args(argv)
    client = tracking.configure()

    if args.command == "list":
        found = versions(client)
        if not found:
            print(f"no version of `{MODEL_NAME}` is registered yet: run `make train`")
            return 0
        print(f"{'version':>7}  {'aliases':<20} {'gate':<7} {'created (UTC)':<16}  run")
        for version in found:
            print(describe(version))
        return 0

    try:
        promotion = promote(client, args.version, force=args.force)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    before = f" (was version {promotion.previous})" if promotion.previous else ""
    print(f"`{MODEL_NAME}` version {promotion.version} is now `{CHAMPION}`{before}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
