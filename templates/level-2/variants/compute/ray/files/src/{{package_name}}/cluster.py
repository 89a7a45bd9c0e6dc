"""The Ray cluster of configs/compute.yaml: reaching it, the search's trials as Ray Tune trials and
batch scoring with Ray Data.

The process joins a Ray instance once (`init`): inside a job that `make train-remote` submitted,
the cluster's; with `RAY_ADDRESS` set to a cluster's address (`host:6379`, `ray://host:10001`),
that cluster, after checking within seconds that it answers; otherwise a Ray instance of its own
on this machine. Trials only compute and report their score; the driver records them in MLflow,
so no worker writes to the tracking store.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .compute import RAY_ADDRESS_ENV, RaySettings

if TYPE_CHECKING:
    import pandas as pd

    from .config import TrainConfig
    from .search import Trial

CONNECT_TIMEOUT_SECONDS = 3.0
# Where `ray start` writes the cluster's token when token authentication is on (Ray 2.60+).
TOKEN_FILE = Path.home() / ".ray" / "auth_token"


class ClusterUnreachableError(ConnectionError):
    """Nothing answers at the cluster's address."""


def host_and_port(address: str, default_port: int = 6379) -> tuple[str, int]:
    """The host and port of `http://host:8265`, `ray://host:10001` or `host:6379`."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if not parts.hostname:
        raise ClusterUnreachableError(f"`{address}` is not an address such as 127.0.0.1:6379")
    return parts.hostname, parts.port or default_port


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Fails within `timeout` seconds, naming the address, when nothing listens there."""
    host, port = host_and_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        raise ClusterUnreachableError(
            f"cannot reach the Ray cluster at `{address}` ({error}): start one with "
            f"`ray start --head`, or set {RAY_ADDRESS_ENV} (or `address` in configs/compute.yaml) "
            "to the address of a running cluster"
        ) from None


def use_local_token() -> None:
    """Lets a client authenticate with the token `ray start` wrote on this machine, unless
    RAY_AUTH_TOKEN gives one: Ray reads the file when RAY_AUTH_MODE is `token`."""
    if not os.environ.get("RAY_AUTH_TOKEN") and TOKEN_FILE.is_file():
        os.environ.setdefault("RAY_AUTH_MODE", "token")


def init() -> None:
    """Joins the process's Ray instance, as the module docstring says."""
    address = os.environ.get(RAY_ADDRESS_ENV, "")
    joins_a_cluster = bool(address) and not address.startswith(("http://", "https://"))
    if joins_a_cluster:
        # Before Ray is imported, which reads how to authenticate.
        use_local_token()
    import ray

    if ray.is_initialized():
        return
    if joins_a_cluster:
        if address != "auto":
            check_reachable(address)
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(include_dashboard=False, log_to_driver=False)


def _trial(
    trial_space: dict[str, Any],
    config: TrainConfig,
    train: pd.DataFrame,
    points: list[dict[str, Any]],
) -> None:
    from ray import tune

    from .search import score

    started = time.perf_counter()
    value = score(config, train, points[trial_space["index"]])
    tune.report({"score": value, "seconds": time.perf_counter() - started})


def run_trials(
    config: TrainConfig,
    train: pd.DataFrame,
    points: list[dict[str, Any]],
    settings: RaySettings | None = None,
) -> list[Trial]:
    """Every trial as a Ray Tune trial, `max_concurrent_trials` at once, each with
    `trial_resources`; raises `RuntimeError` naming the first trial that failed."""
    from .compute import ray_settings
    from .search import Trial

    settings = settings or ray_settings()
    init()  # first: importing Ray reads how to authenticate
    from ray import tune

    trainable = tune.with_resources(
        tune.with_parameters(_trial, config=config, train=train, points=points),
        settings.resources,
    )
    with tempfile.TemporaryDirectory(prefix="tune-") as storage:
        tuner = tune.Tuner(
            trainable,
            param_space={"index": tune.grid_search(list(range(len(points))))},
            # Reusing a trial's worker for the next spares each trial a process start and imports.
            tune_config=tune.TuneConfig(
                max_concurrent_trials=settings.max_concurrent_trials, reuse_actors=True
            ),
            run_config=tune.RunConfig(name="search", storage_path=storage, verbose=0),
        )
        results = tuner.fit()
    trials = []
    for result in results:
        index = result.config["index"]
        if result.error is not None:
            raise RuntimeError(f"search trial {index} {points[index]} failed: {result.error}")
        metrics = result.metrics
        trials.append(Trial(index, points[index], metrics["score"], metrics["seconds"]))
    return trials


def score_partitions(score_one: Any, pairs: list[tuple[Path, Path]]) -> list[int]:
    """Runs `score_one(source, target)` for each partition as a Ray Data map, and returns the
    number of rows of each, in order."""
    init()  # first: importing Ray reads how to authenticate
    import ray

    items = [{"index": i, "source": str(s), "target": str(t)} for i, (s, t) in enumerate(pairs)]

    def score_row(row: dict[str, Any]) -> dict[str, Any]:
        rows = score_one(Path(row["source"]), Path(row["target"]))
        return {"index": row["index"], "rows": rows}

    dataset = ray.data.from_items(items).map(score_row)
    done = sorted(dataset.take_all(), key=lambda row: row["index"])
    return [int(row["rows"]) for row in done]
