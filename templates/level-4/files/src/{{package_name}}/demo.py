"""The whole level-4 loop on this machine, offline: `make demo-loop`.

The same as `python -m {{ package_name }}.demo`. It works in build/demo/ with an MLflow
store of its own, so the project's mlflow.db, logs and reports are left alone:

1. champion: a first model, with the shipped configuration, is trained on the reference data,
   gated and released as the champion;
2. serve: the application starts locally on a free port, serving the champion from the registry;
3. traffic: requests like the training data (rows the reference test set does not hold), and their
   labels through /feedback;
4. monitor: drift and performance per window; the policy holds;
5. drift: requests whose features moved, and their labels;
6. collect: the labelled rows become a snapshot of training data (`make collect`);
7. monitor: the windows are violated and the policy fires: the issue, which names the snapshot
   the retrain will use, is printed (a dry run) and training is dispatched, here to the local
   pipeline;
8. monitor again, at once: the cooldown holds the policy;
9. retrain and gate: the same configuration trains a candidate on the reference data plus the
   snapshot, holding out its most recent rows; the gate scores both models on the reference test
   set and on those recent rows, and the scores are printed;
10. promote or reject: the candidate becomes the champion only if it passed, that is, if it beat
    the champion on the recent rows and stayed within the gate on the reference test set;
11. swap: the application reloads while requests keep coming; the new champion answers, no request
    fails, and /metrics says which version serves.

Every step prints what happened. Exit status 0 when the loop went round as announced, 1 when it
did not: a step did not do what it should (say, a request failed during the swap, or none was
sent), the retrained candidate did not beat the champion on the recent rows, or the gate
rejected it, so nothing was promoted or swapped.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

# pandas, MLflow and the rest come with the modules `loop` imports, after its first message.
if TYPE_CHECKING:
    import pandas as pd

DEMO = Path("build/demo")
NORMAL_WINDOWS, DRIFTED_WINDOWS = 2, 4
BATCH = 20
# The application listens on loopback only and is told so, so it takes labels and reloads without
# tokens (access.py).
HOST = "127.0.0.1"


class DemoFailed(Exception):
    """A step of the loop did not do what it should."""


def step(number: int, title: str) -> None:
    print(f"\n== {number}. {title}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def call(url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """The status and JSON answer of a GET (no body) or a POST."""
    data = None if body is None else json.dumps(body).encode()
    headers = {} if data is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        content, status = error.read(), error.code
    except OSError:
        return 0, None
    try:
        return status, json.loads(content)
    except ValueError:
        return status, content.decode(errors="replace")


class Service:
    """The application as a subprocess, serving the champion of the demo's registry."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        command = [sys.executable, "-m", "uvicorn", "{{ package_name }}.app:app"]
        with (DEMO / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "--host", HOST, "--port", str(self.port)],
                env={**environ, "UVICORN_HOST": HOST},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_ready(self, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoFailed(f"the application stopped; see {DEMO / 'server.log'}")
            status, body = call(f"{self.url}/ready", timeout=2)
            if status == 200:
                return body
            time.sleep(0.5)
        raise DemoFailed(f"the application was not ready within {timeout:g} seconds")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def send(service: Service, rows: pd.DataFrame, labels: pd.Series, key: str) -> int:
    """Scores `rows` in batches, then posts their labels; returns how many were scored."""
    labelled = []
    for start in range(0, len(rows), BATCH):
        batch = rows.iloc[start : start + BATCH]
        request = {"rows": batch.to_dict(orient="records"), "key": f"{key}-{start}"}
        status, answer = call(f"{service.url}/predict", request)
        if status != 200:
            raise DemoFailed(f"/predict answered {status}: {answer}")
        truth = labels.iloc[start : start + BATCH].tolist()
        labelled += [
            {"prediction_id": pid, "label": label}
            for pid, label in zip(answer["prediction_ids"], truth, strict=True)
        ]
    for start in range(0, len(labelled), 500):
        status, answer = call(f"{service.url}/feedback", {"labels": labelled[start : start + 500]})
        if status != 200:
            raise DemoFailed(f"/feedback answered {status}: {answer}")
    return len(rows)


def drifted(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with a third of the features moved up by one and a half standard deviations: a
    new population of inputs, whose true labels stay what they were."""
    columns = list(rows.columns[: max(1, len(rows.columns) // 3)])
    moved = rows.copy()
    moved[columns] = moved[columns] + 1.5 * rows[columns].std()
    return moved


def swap_under_load(service: Service, rows: pd.DataFrame) -> tuple[Any, list[int], int]:
    """Reloads the application while a client keeps sending requests; returns the reload's
    answer, the status of every request, and how many were in flight while it reloaded."""
    requests: list[tuple[float, float, int]] = []  # started, finished, status
    stop = threading.Event()
    batches = [rows.iloc[start : start + 5] for start in range(0, len(rows), 5)]

    def client() -> None:
        for batch in itertools.cycle(batches):
            if stop.is_set():
                return
            body = {"rows": batch.to_dict(orient="records")}
            started = time.monotonic()
            status = call(f"{service.url}/predict", body)[0]
            requests.append((started, time.monotonic(), status))

    sender = threading.Thread(target=client)
    sender.start()
    try:
        time.sleep(0.3)
        reload_started = time.monotonic()
        status, reloaded = call(f"{service.url}/admin/reload", {}, timeout=120)
        reload_finished = time.monotonic()
        time.sleep(0.3)
    finally:
        stop.set()
        sender.join(timeout=30)
    if status != 200:
        raise DemoFailed(f"/admin/reload answered {status}: {reloaded}")
    overlapping = [
        status
        for started, finished, status in requests
        if started < reload_finished and finished > reload_started
    ]
    return reloaded, [status for _, _, status in requests], len(overlapping)


def metric_lines(service: Service, names: tuple[str, ...]) -> list[str]:
    status, text = call(f"{service.url}/metrics")
    if status != 200 or not isinstance(text, str):
        raise DemoFailed(f"/metrics answered {status}")
    return [line for line in text.splitlines() if line.startswith(names) and "_created" not in line]


def print_gate(path: Path) -> dict[str, Any]:
    """Prints the gate's verdict, its checks and both models' scores on both slices; returns the
    report."""
    report = json.loads(path.read_text())
    print(f"version {report['version']}: gate {'passed' if report['passed'] else 'failed'}")
    for checked in report["checks"]:
        verdict = "ok  " if checked["passed"] else "FAIL"
        print(f"  {verdict} {checked['name']}: {checked['detail']}")
    slices = {
        "reference test set": ("metrics", "champion_metrics"),
        "recent production rows": ("recent_metrics", "champion_recent_metrics"),
    }
    for name, (candidate, champion) in slices.items():
        for model, key in (("retrained", candidate), ("champion", champion)):
            scores = report.get(key) or {}
            shown = ", ".join(f"{metric} {value:.4f}" for metric, value in scores.items())
            print(f"  {model:9} on the {name}: {shown or '-'}")
    return report


def loop() -> None:
    print(f"the demo works in {DEMO}/, with an MLflow store of its own", flush=True)
    if DEMO.exists():
        shutil.rmtree(DEMO)
    (DEMO / "logs").mkdir(parents=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{(DEMO / 'mlflow.db').resolve()}"

    # MLflow takes seconds to import: after the first message.
    from . import collect, gate, metrics, monitor, pipeline, registry, tracking
    from .config import load_config
    from .data.ingest import TARGET, load_dataset
    from .data.ingest import load_config as load_ingest_config
    from .data.validate import Schema
    from .training_data import SNAPSHOTS_ENV

    # Snapshots of the demo's labelled traffic go to its own directory, which training and the
    # monitor's issue read.
    os.environ[SNAPSHOTS_ENV] = str(DEMO / "snapshots")
    client = tracking.configure()
    reports = DEMO / "reports" / "training"
    model_file = DEMO / "models" / "model.joblib"
    train_config = load_config()

    step(1, "champion: a first model, trained on the reference data, gated and released")
    first = pipeline.run(train_config, load_ingest_config(), model_file=model_file, reports=reports)
    verdict = gate.run(gate.load_config(), version=first.version, reports=reports)
    registry.promote(client, first.version, force=not verdict.passed)
    print(f"version {first.version}, the shipped configuration, is the champion")

    step(2, "serve: the application, started locally")
    logs = DEMO / "logs"
    service = Service(
        {
            **os.environ,
            "MODEL_URI": registry.model_uri(alias=registry.CHAMPION),
            "CHALLENGER_URI": "",
            "PREDICTION_LOG": str((logs / "predictions.jsonl").resolve()),
            "FEEDBACK_LOG": str((logs / "feedback.jsonl").resolve()),
        }
    )
    try:
        ready = service.wait_until_ready()
        print(f"{service.url} is ready, serving version {ready['model_version']}")

        config = monitor.load_config()
        config = replace(
            config,
            state=DEMO / "monitoring" / "state.json",
            reports=DEMO / "monitoring",
            dispatch="local",
        )
        retrain = monitor.LocalDispatcher(
            train_args=["--model-file", str(model_file), "--reports", str(reports)],
            gate_args=["--reports", str(reports)],
        )

        def check(number: int, title: str) -> monitor.Check:
            step(number, title)
            result, status = monitor.run(
                config,
                str(logs / "predictions.jsonl"),
                str(logs / "feedback.jsonl"),
                dispatcher=retrain,
                tracker=None,
                profile_of=monitor.reference_loader(config),
            )
            print(result.to_markdown().split("\n\nDrift of the latest window")[0].rstrip())
            if status != monitor.EXIT_OK:
                raise DemoFailed(f"monitoring exited {status}")
            return result

        # Traffic comes from the rows the champion trained on, never from its reference test set,
        # which the gate scores the retrained model on.
        data = pipeline.split(load_dataset(), train_config).train
        features, labels = data.drop(columns=[TARGET]), data[TARGET]
        size = config.window_size

        step(3, f"traffic: {NORMAL_WINDOWS} windows of {size} requests like the training data")
        normal = features.sample(NORMAL_WINDOWS * size, replace=True, random_state=0)
        sent = send(service, normal, labels.loc[normal.index], "customer")
        print(f"{sent} rows scored and labelled")
        held = check(4, "monitor: the windows are judged; the policy should hold")
        if held.decision.fire:
            raise DemoFailed("the policy fired on traffic like the training data")

        step(5, f"drift: {DRIFTED_WINDOWS} windows of requests whose features moved")
        moved = features.sample(DRIFTED_WINDOWS * size, replace=True, random_state=1)
        sent = send(service, drifted(moved), labels.loc[moved.index], "drifted")
        print(f"{sent} rows scored and labelled")

        step(6, "collect: the labelled rows become a snapshot of training data")
        written = collect.run(
            collect.CollectConfig(
                predictions=str(logs / "predictions.jsonl"), feedback=str(logs / "feedback.jsonl")
            ),
            Schema.of(train_config),
            DEMO / "snapshots",
        )
        if written is None or not written.created:
            raise DemoFailed("no snapshot was written of the labelled traffic")
        snapshot = written.snapshot

        fired = check(7, "monitor: the windows are violated; the policy fires and retrains")
        if not fired.decision.fire:
            raise DemoFailed(f"the policy did not fire: {fired.decision.reason}")
        again = check(8, "monitor again, at once: the cooldown holds the policy")
        if again.decision.fire or again.decision.blocked_by != "cooldown":
            raise DemoFailed(f"the cooldown did not hold: {again.decision.reason}")

        step(9, "retrain and gate: what the dispatched training did")
        candidate = registry.version_by_alias(client, registry.CANDIDATE)
        used = client.get_run(candidate.run_id).data.tags.get("data.snapshots", "")
        print(f"version {candidate.version} learnt from the reference data and snapshots {used}")
        if snapshot.id not in used.split(","):
            raise DemoFailed(f"the retrain did not use snapshot {snapshot.id}")
        report = print_gate(reports / "gate.json")
        passed = bool(report["passed"])
        if not report.get("recent_metrics") or not report.get("champion_recent_metrics"):
            raise DemoFailed("the gate did not compare the models on the recent production rows")

        step(10, "promote or reject")
        if not passed:
            print(f"rejected: version {candidate.version} stays a candidate; the champion serves")
            raise DemoFailed(
                f"the gate rejected version {candidate.version}: the loop stopped before the "
                "promotion and the swap"
            )
        promotion = registry.promote(client, candidate.version)
        print(f"promoted: version {promotion.version} is the champion (was {promotion.previous})")

        step(11, "swap: the application reloads while requests keep coming")
        reloaded, statuses, in_flight = swap_under_load(service, normal)
        failed = [status for status in statuses if status != 200]
        print(f"reload: {reloaded['outcome']}, {reloaded['detail']}")
        print(
            f"{len(statuses)} requests during the swap, {len(failed)} failed "
            f"({in_flight} of them while the model was reloaded)"
        )
        if not in_flight:
            raise DemoFailed("no request was in flight while the model was reloaded: untested")
        if reloaded["outcome"] != "swapped" or failed:
            raise DemoFailed("the swap did not go through without failures")
        served = call(f"{service.url}/version")[1]["model_version"]
        print(f"the application serves version {served}, without a restart")
        names = tuple(f"{metrics.NAMESPACE}_{name}" for name in ("model_info", "model_reloads"))
        for line in metric_lines(service, names):
            print(f"  {line}")
        if served != promotion.version:
            raise DemoFailed(f"the application serves version {served}, not {promotion.version}")
    finally:
        service.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=f"Run the whole loop offline in {DEMO}/: serve, drift, collect, monitor, "
        "fire, retrain, gate, promote or reject, swap."
    )
    parser.parse_args(argv)
    try:
        loop()
    except DemoFailed as error:
        print(f"\nerror: {error}", file=sys.stderr)
        print("the loop did not go round", file=sys.stderr)
        return 1
    print("\nthe loop went round: monitored, collected, fired, retrained, gated, decided, swapped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
