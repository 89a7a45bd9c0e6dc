"""Zero-downtime model swaps: a new model is loaded next to the one serving, checked, and swapped in
at once; requests never wait for it and never see half of it.

What the application serves is one immutable `Served` snapshot: the champion, the challenger and
the router between them. A request reads the snapshot once, when it starts, and uses it to the end,
so a swap meanwhile changes what the next request gets and never the one in flight: requests in
flight finish on the old model. `ModelSwap.reload`:

1. loads the configured models again (`MODEL_URI` or `MODEL_PATH`, and the challenger of
   configs/serving.yaml) beside the ones serving, which go on answering meanwhile;
2. checks that the new champion is ready: it scores a probe row and answers one prediction of the
   right kind for it (its readiness check, as `/ready` reports it);
3. swaps the snapshot in one assignment, or, if anything failed, keeps serving the old models and
   says why: a failed load never takes the service down.

The application reloads on `POST /admin/reload` (`make reload BASE_URL=...`) and, with
`MODEL_RELOAD_SECONDS` set, by itself that often when the champion alias has moved (after a release
or a rollback, say). Reloads run one at a time.

A server of several worker processes (server.py) is one service: the reload that one worker gets
reaches them all. The worker announces it in the directory the workers share (`SERVER_RUN_DIR`);
the others look there twice a second, reload in turn and leave their outcome beside it; the worker
answers once every other one has (or after `FOLLOW_TIMEOUT` seconds), with their outcomes in
`other_workers`, and answers 500 if one failed or did not answer in time. A watcher's reloads need
no announcing: every worker runs its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from starlette.concurrency import run_in_threadpool

from . import score, serving
from .score import LoadedModel

RELOAD_SECONDS_ENV = "MODEL_RELOAD_SECONDS"
RELOAD_TOKEN_ENV = "RELOAD_TOKEN"
RUN_DIR_ENV = "SERVER_RUN_DIR"
SERVER_WORKERS_ENV = "SERVER_WORKERS"
FOLLOW_SECONDS = 0.5
FOLLOW_TIMEOUT = 120.0
ANNOUNCEMENT = "model-reload"
SWAPPED, UNCHANGED, FAILED = "swapped", "unchanged", "failed"

logger = logging.getLogger(__name__)


class NotReady(Exception):
    """A loaded model that cannot serve: no model, or it does not answer the probe."""


@dataclass(frozen=True)
class Served:
    """What the application serves, all at once."""

    model: LoadedModel | None
    challenger: LoadedModel | None
    router: serving.Router
    source: str | Path
    loaded_at: str

    @property
    def identity(self) -> tuple[tuple[str, str | None] | None, ...]:
        """The champion's and the challenger's digests and versions: equal identities serve the
        same."""
        return tuple(
            (model.sha256, model.version) if model else None
            for model in (self.model, self.challenger)
        )


@dataclass(frozen=True)
class ReloadResult:
    outcome: str
    model_version: str | None
    model_sha256: str | None
    previous_version: str | None
    detail: str
    other_workers: dict[str, str] = field(default_factory=dict)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load(source: str | Path, config: serving.ServingConfig | None = None) -> Served:
    """Loads what the application serves from `source` and the serving configuration; raises
    when the champion cannot be loaded (the challenger is optional, as at startup)."""
    config = config or serving.load_config()
    model = score.load_model(source)
    challenger = serving.load_challenger(config.challenger, model)
    share = config.challenger_share if challenger else 0.0
    return Served(model, challenger, serving.Router(share, config.salt), source, now())


def probe(model: LoadedModel) -> None:
    """Raises `NotReady` unless the model answers one prediction for a row of zeros."""
    frame = pd.DataFrame([dict.fromkeys(model.features, 0.0)], columns=model.features)
    try:
        scored = score.predict(model, frame)
    except Exception as error:
        raise NotReady(f"{model.source} cannot score a probe row: {error}") from None
    values = [float(value) for value in scored.predictions]
    if len(values) != 1 or not all(math.isfinite(value) for value in values):
        raise NotReady(f"{model.source} answered {values} for one probe row")


def check_ready(served: Served) -> None:
    """The readiness check of a snapshot: a champion that answers, and a challenger too if any."""
    if served.model is None:
        raise NotReady(f"no model at {served.source}")
    probe(served.model)
    if served.challenger is not None:
        probe(served.challenger)


class ModelSwap:
    """Holds the snapshot served now and replaces it, whole, with a ready one."""

    def __init__(
        self,
        served: Served,
        loader: Callable[[], Served],
        on_swap: Callable[[Served], None] | None = None,
        on_reload: Callable[[ReloadResult], None] | None = None,
    ) -> None:
        self._current = served
        self._loader = loader
        self._on_swap = on_swap
        self._on_reload = on_reload
        self._lock = threading.Lock()

    @property
    def current(self) -> Served:
        """The snapshot to serve a request with: read it once per request."""
        return self._current

    def reload(self) -> ReloadResult:
        """Loads the models again and swaps them in if they are ready and differ."""
        with self._lock:
            result = self._reload()
        if self._on_reload is not None:
            self._on_reload(result)
        return result

    def _reload(self) -> ReloadResult:
        old = self._current
        previous = old.model.version if old.model else None
        try:
            new = self._loader()
            check_ready(new)
        except Exception as error:
            logger.warning("reload failed; still serving the old models: %s", error)
            sha256 = old.model.sha256 if old.model else None
            return ReloadResult(FAILED, previous, sha256, previous, str(error))
        version = new.model.version if new.model else None
        sha256 = new.model.sha256 if new.model else None
        if new.identity == old.identity:
            return ReloadResult(UNCHANGED, version, sha256, previous, "already serving it")
        self._current = new
        if self._on_swap is not None:
            self._on_swap(new)
        was = previous or (old.model.sha256 if old.model else "nothing")
        detail = f"now serving {version or sha256}, was {was}"
        logger.info("model swapped: %s", detail)
        return ReloadResult(SWAPPED, version, sha256, previous, detail)


def alias_version(source: str | Path) -> str | None:
    """The version a `models:/name@alias` source names now; `None` for other sources."""
    text = str(source)
    if not text.startswith("models:/") or "@" not in text:
        return None
    from . import tracking

    name, _, alias = text.removeprefix("models:/").partition("@")
    return str(tracking.configure().get_model_version_by_alias(name, alias).version)


def changed(swap: ModelSwap) -> bool:
    """Whether a reload may find something new: always, unless the source is a registry alias
    that still names the version served (asking is much cheaper than loading)."""
    served = swap.current
    try:
        version = alias_version(served.source)
    except Exception:
        logger.warning("cannot resolve %s; reloading to find out", served.source, exc_info=True)
        return True
    return version is None or served.model is None or version != served.model.version


async def watch(swap: ModelSwap, interval: float) -> None:
    """Reloads every `interval` seconds when the source may have changed, until cancelled."""
    while True:
        await asyncio.sleep(interval)
        if await run_in_threadpool(changed, swap):
            result = await run_in_threadpool(swap.reload)
            if result.outcome != UNCHANGED:
                logger.warning("watcher reload %s: %s", result.outcome, result.detail)


def reload_interval(environ: Mapping[str, str] = os.environ) -> float | None:
    """`MODEL_RELOAD_SECONDS`: how often the watcher looks for a new model; `None` for never."""
    text = environ.get(RELOAD_SECONDS_ENV, "").strip()
    if not text:
        return None
    seconds = float(text)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{RELOAD_SECONDS_ENV} must be a positive number of seconds, not {text}")
    return seconds


def start_watcher(swap: ModelSwap, interval: float | None) -> asyncio.Task[None] | None:
    """Starts `watch` in the running event loop when an interval is set."""
    if interval is None:
        return None
    return asyncio.create_task(watch(swap, interval))


async def stop_watcher(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text)
    os.replace(temporary, path)


class Workers:
    """The other worker processes of the server, through the directory they share: announcing a
    reload to them, noticing theirs, and their outcomes."""

    def __init__(self, directory: Path, count: int, timeout: float = FOLLOW_TIMEOUT) -> None:
        self.directory = directory
        self.count = count
        self.timeout = timeout
        self._seen = self._announcement()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Workers | None:
        """The server's workers, or `None` for a process that serves alone."""
        directory = environ.get(RUN_DIR_ENV, "").strip()
        count = int(environ.get(SERVER_WORKERS_ENV, "").strip() or 1)
        return cls(Path(directory), count) if directory and count > 1 else None

    def _announcement(self) -> str:
        try:
            return (self.directory / ANNOUNCEMENT).read_text()
        except OSError:
            return ""

    def announce(self) -> str:
        """Asks the other workers to reload; the announcement's id."""
        announcement = uuid.uuid4().hex
        _write_atomically(self.directory / ANNOUNCEMENT, announcement)
        self._seen = announcement
        return announcement

    def announced(self) -> str | None:
        """The id of a reload another worker announced since this one last looked, if any."""
        announcement = self._announcement()
        if not announcement or announcement == self._seen:
            return None
        self._seen = announcement
        return announcement

    def acknowledge(self, announcement: str, outcome: str) -> None:
        _write_atomically(self.directory / f"{announcement}.{os.getpid()}", outcome)

    def outcomes(self, announcement: str) -> dict[str, str]:
        """The outcome of the announced reload in each other worker, by process id, once every
        one has reloaded or `timeout` seconds have passed."""
        deadline = time.monotonic() + self.timeout
        while True:
            outcomes = {
                path.suffix.removeprefix("."): path.read_text()
                for path in self.directory.glob(f"{announcement}.*")
            }
            if len(outcomes) >= self.count - 1 or time.monotonic() > deadline:
                return outcomes
            time.sleep(0.05)


def reload_everywhere(swap: ModelSwap, workers: Workers | None) -> ReloadResult:
    """Reloads this worker, then every other one unless this one failed."""
    result = swap.reload()
    if workers is None or result.outcome == FAILED:
        return result
    outcomes = workers.outcomes(workers.announce())
    missing = workers.count - 1 - len(outcomes)
    detail = f"{result.detail}; the other workers: " + ", ".join(
        [f"{outcome} in {pid}" for pid, outcome in sorted(outcomes.items())]
        + ([f"{missing} did not answer"] if missing else [])
    )
    return replace(result, detail=detail, other_workers=outcomes)


def reached_every_worker(result: ReloadResult, workers: Workers | None) -> bool:
    """Whether every worker reloaded: this one and, with several, every other one."""
    if result.outcome == FAILED:
        return False
    if workers is None:
        return True
    outcomes = result.other_workers.values()
    return len(outcomes) == workers.count - 1 and FAILED not in outcomes


async def follow(swap: ModelSwap, workers: Workers) -> None:
    """Reloads when another worker announces a reload, until cancelled."""
    while True:
        await asyncio.sleep(FOLLOW_SECONDS)
        announcement = workers.announced()
        if announcement is not None:
            result = await run_in_threadpool(swap.reload)
            workers.acknowledge(announcement, result.outcome)


def start_follower(swap: ModelSwap, workers: Workers | None) -> asyncio.Task[None] | None:
    """Starts `follow` in the running event loop for a worker of several."""
    if workers is None:
        return None
    return asyncio.create_task(follow(swap, workers))


def request_reload(base_url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    """Asks the service at `base_url` to reload; its status and answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{base_url.rstrip('/')}/admin/reload"
    request = urllib.request.Request(url, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Swap the released model into a running service.")
    parser.add_argument("base_url", help="the service, such as http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    try:
        status, answer = request_reload(args.base_url, os.environ.get(RELOAD_TOKEN_ENV))
    except OSError as error:
        print(f"error: {args.base_url}: {error}", file=sys.stderr)
        return 2
    print(f"{answer.get('outcome', status)}: {answer.get('detail', answer)}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main())
