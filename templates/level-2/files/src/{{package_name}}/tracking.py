"""Where experiments are tracked and models registered: MLflow, configured in one place.

By default MLflow writes to the SQLite database `mlflow.db` in the project root, with the
artifacts (models, evaluation data) in `mlartifacts/` beside it: no server and no account. Set
`MLFLOW_TRACKING_URI` to a shared MLflow server (`https://mlflow.example.com`) or database, and the
same code tracks and registers there. Runs also record the code that made them: `git_tags` reads
the commit, and says `unknown` rather than failing outside a git repository.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ARTIFACTS_DIRECTORY = "mlartifacts"
EXPERIMENT_NAME = "{{ package_name }}"
UNKNOWN = "unknown"


def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when it is set and not empty, else the local SQLite database."""
    return os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI


def artifact_location(uri: str) -> str | None:
    """`mlartifacts/` beside a local SQLite database; `None` lets a server choose its own."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    database = Path(uri.removeprefix(prefix))
    return (database.parent / ARTIFACTS_DIRECTORY).resolve().as_uri()


def configure(uri: str | None = None) -> MlflowClient:
    """Points MLflow at `uri` (default: `tracking_uri()`) and returns a client of it. The registry
    is the tracking store's unless `MLFLOW_REGISTRY_URI` names another."""
    # MLflow is imported here, not at the top: it takes seconds, which commands that only read
    # the configuration or print need not wait for.
    import mlflow
    from mlflow import MlflowClient

    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


def experiment_id(client: MlflowClient, name: str = EXPERIMENT_NAME) -> str:
    """The id of experiment `name`, created on first use with the artifact location above."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location(client.tracking_uri))


def _git(*args: str, directory: Path | None) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=directory, capture_output=True, text=True, check=True, timeout=10
    )
    return completed.stdout.strip()


def git_tags(directory: Path | None = None) -> dict[str, str]:
    """`git.commit` checked out in `directory` and `git.dirty` (uncommitted changes to tracked
    files): both `unknown` outside a git repository or without git."""
    try:
        commit = _git("rev-parse", "HEAD", directory=directory)
        changes = _git("status", "--porcelain", "--untracked-files=no", directory=directory)
    except (OSError, subprocess.SubprocessError):
        return {"git.commit": UNKNOWN, "git.dirty": UNKNOWN}
    return {"git.commit": commit, "git.dirty": str(bool(changes)).lower()}
