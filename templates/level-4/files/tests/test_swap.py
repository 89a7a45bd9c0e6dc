"""Zero downtime: a new model is swapped in behind its readiness check while requests keep coming,
and none of them fails; a model that cannot load leaves the old one serving."""

from __future__ import annotations

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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

import {{ package_name }}
from {{ package_name }} import registry, swap, tracking
from {{ package_name }}.app import create_app
from {{ package_name }}.score import load_model
from {{ package_name }}.swap import changed, reload_interval


class SlowModel:
    """A fitted model that takes its time to answer, to keep a request in flight."""

    def __init__(self, model: Any, seconds: float) -> None:
        self.model = model
        self.seconds = seconds
        self.feature_names_in_ = model.feature_names_in_

    def predict(self, features: Any) -> Any:
        time.sleep(self.seconds)
        return self.model.predict(features)
{%- if is_classification %}

    def predict_proba(self, features: Any) -> Any:
        return self.model.predict_proba(features)
{%- endif %}


class BrokenModel(SlowModel):
    """A model that loads, records its features, and cannot predict."""

    def predict(self, features: Any) -> Any:
        raise RuntimeError("broken")


@pytest.fixture
def served_file(tmp_path: Path, model_path: Path) -> Path:
    """The model file the application serves, which a test replaces to release another model."""
    path = tmp_path / "serving" / "model.joblib"
    path.parent.mkdir()
    shutil.copyfile(model_path, path)
    return path


def replace(path: Path, source: Path) -> None:
    """Releases `source` at `path` in one step, as a deployment would."""
    staged = path.with_suffix(".staged")
    shutil.copyfile(source, staged)
    staged.replace(path)


def sha256_of(path: Path) -> str:
    return load_model(path).sha256


@contextmanager
def server(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free port of 127.0.0.1, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=30)


def call(url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    if body is None:
        request = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def reload(url: str) -> tuple[int, Any]:
    return call(f"{url}/admin/reload", {})


def test_liveness_and_readiness_are_apart(served_file: Path, tmp_path: Path) -> None:
    with TestClient(create_app(served_file)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["model_sha256"] == sha256_of(served_file)
        assert client.get("/health").json() == {"status": "ok", "model_loaded": True}
    with TestClient(create_app(tmp_path / "missing.joblib")) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503


def test_a_reload_swaps_in_the_released_model(
    served_file: Path, challenger_path: Path, sample_rows: list[dict[str, float]]
) -> None:
    before, after = sha256_of(served_file), sha256_of(challenger_path)
    with TestClient(create_app(served_file)) as client:
        assert client.post("/admin/reload").json()["outcome"] == "unchanged"
        replace(served_file, challenger_path)
        response = client.post("/admin/reload")
        assert response.status_code == 200
        assert response.json()["outcome"] == "swapped"
        assert response.json()["model_sha256"] == after
        assert client.get("/version").json()["model_sha256"] == after
        assert client.get("/ready").json()["model_sha256"] == after
        predicted = client.post("/predict", json={"rows": sample_rows}).json()
        assert predicted["model_sha256"] == after
        metrics = client.get("/metrics").text
        assert f'model_sha256="{after}"' in metrics and f'model_sha256="{before}"' not in metrics
        assert 'model_reloads_total{outcome="swapped"} 1.0' in metrics


def test_a_model_that_cannot_load_leaves_the_old_one_serving(
    served_file: Path, sample_rows: list[dict[str, float]]
) -> None:
    before = sha256_of(served_file)
    with TestClient(create_app(served_file)) as client:
        served_file.write_bytes(b"not a model")
        response = client.post("/admin/reload")
        assert response.status_code == 500
        assert response.json()["outcome"] == "failed"
        assert response.json()["model_sha256"] == before
        assert client.get("/ready").status_code == 200
        predicted = client.post("/predict", json={"rows": sample_rows})
        assert predicted.status_code == 200 and predicted.json()["model_sha256"] == before
        assert 'model_reloads_total{outcome="failed"} 1.0' in client.get("/metrics").text


def test_a_model_that_fails_its_readiness_check_is_not_swapped_in(served_file: Path) -> None:
    with TestClient(create_app(served_file)) as client:
        before = client.get("/version").json()["model_sha256"]
        joblib.dump(BrokenModel(joblib.load(served_file), seconds=0.0), served_file)
        response = client.post("/admin/reload")
        assert response.json()["outcome"] == "failed"
        assert "cannot score a probe row" in response.json()["detail"]
        assert client.get("/version").json()["model_sha256"] == before


def test_a_reload_needs_the_token_when_one_is_set(
    served_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELOAD_TOKEN", "s3cret")
    with TestClient(create_app(served_file)) as client:
        assert client.post("/admin/reload").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/admin/reload", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.post("/admin/reload", headers=right).status_code == 200


def test_off_loopback_a_reload_needs_a_token(
    served_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the image, which binds 0.0.0.0: without RELOAD_TOKEN, nobody may reload."""
    monkeypatch.delenv("UVICORN_HOST")
    with TestClient(create_app(served_file)) as client:
        refused = client.post("/admin/reload")
        assert refused.status_code == 403
        assert "set RELOAD_TOKEN" in refused.json()["detail"]
        monkeypatch.setenv("RELOAD_TOKEN", "s3cret")
        assert client.post("/admin/reload").status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert client.post("/admin/reload", headers=right).json()["outcome"] == "unchanged"


def test_requests_during_swaps_all_succeed(
    served_file: Path,
    model_path: Path,
    challenger_path: Path,
    sample_rows: list[dict[str, float]],
) -> None:
    """Real concurrent requests against a real server while the model is swapped back and forth,
    and once for a file that is no model at all."""
    first, second = sha256_of(model_path), sha256_of(challenger_path)
    stop = threading.Event()

    def client_loop() -> list[tuple[int, str | None]]:
        seen = []
        while not stop.is_set():
            status, body = call(f"{url}/predict", {"rows": sample_rows})
            seen.append((status, body.get("model_sha256") if status == 200 else None))
        return seen

    with server(create_app(served_file)) as url, ThreadPoolExecutor(max_workers=6) as pool:
        clients = [pool.submit(client_loop) for _ in range(6)]
        outcomes = []
        for index in range(6):
            time.sleep(0.15)
            replace(served_file, challenger_path if index % 2 == 0 else model_path)
            outcomes.append(reload(url)[1]["outcome"])
        served_file.write_bytes(b"not a model")
        outcomes.append(reload(url)[1]["outcome"])
        time.sleep(0.15)
        stop.set()
        answers = [answer for future in clients for answer in future.result()]

    assert outcomes == ["swapped"] * 6 + ["failed"]
    assert len(answers) > 50
    assert {status for status, _ in answers} == {200}, "a request failed during a swap"
    assert {sha for _, sha in answers} == {first, second}


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of the server's /metrics, by name and labels."""
    scraped = urllib.request.urlopen(f"{url}/metrics", timeout=30).read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }


def test_a_reload_reaches_every_worker_of_a_server(
    served_file: Path,
    model_path: Path,
    challenger_path: Path,
    sample_rows: list[dict[str, float]],
    tmp_path: Path,
) -> None:
    """The server of the image with two worker processes, under load: the worker that gets the
    reload answers once the other one has swapped too, both serve the new model from then on,
    no request fails, and a scrape counts the requests of both."""
    before, after = sha256_of(model_path), sha256_of(challenger_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    package = Path({{ package_name }}.__file__).resolve().parent
    environment = {
        **os.environ,
        "WEB_CONCURRENCY": "2",
        "MODEL_PATH": str(served_file),
        "PYTHONPATH": os.pathsep.join([str(package.parent), os.environ.get("PYTHONPATH", "")]),
    }
    environment.pop("MODEL_URI", None)
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "{{ package_name }}.server", "--port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    stop = threading.Event()

    def client_loop() -> list[tuple[float, int, str | None]]:
        seen = []
        while not stop.is_set():
            started = time.monotonic()
            status, body = call(f"{url}/predict", {"rows": sample_rows[:1]})
            seen.append((started, status, body.get("model_sha256") if status == 200 else None))
        return seen

    try:
        deadline = time.monotonic() + 180
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"the workers did not start:\n{log.read_text()}"
            time.sleep(0.2)
        with ThreadPoolExecutor(max_workers=4) as pool:
            clients = [pool.submit(client_loop) for _ in range(4)]
            time.sleep(1.0)
            replace(served_file, challenger_path)
            status, answer = reload(url)
            reloaded = time.monotonic()
            time.sleep(1.0)
            stop.set()
            answers = [answer for future in clients for answer in future.result()]
        predicted = {"method": "POST", "path": "/predict", "status": "200"}
        key = ("{{ package_name }}_requests_total", tuple(sorted(predicted.items())))
        # A request is counted once its answer has been sent, so the last ones may be counted
        # just after their client saw them: scrape again until the count catches up (a scrape
        # that missed a worker would stay about half short).
        deadline = time.monotonic() + 10
        while True:
            samples = scrape(url)
            if samples.get(key, 0) >= len(answers) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        process.terminate()
        process.wait(timeout=60)

    assert (status, answer["outcome"]) == (200, "swapped"), answer
    assert list(answer["other_workers"].values()) == ["swapped"], answer
    assert {status for _, status, _ in answers} == {200}, "a request failed during the swap"
    assert {sha for started, _, sha in answers if started < reloaded} >= {before}
    assert {sha for started, _, sha in answers if started > reloaded} == {after}
    assert samples[key] == len(answers), "a scrape answers for every worker"
    served = {
        dict(labels)["model_sha256"]: value
        for (name, labels), value in samples.items()
        if name == "{{ package_name }}_model_info"
    }
    assert served == {before: 0, after: 1}, served


def test_a_reload_that_another_worker_failed_or_missed_is_not_complete(
    served_file: Path, challenger_path: Path, tmp_path: Path
) -> None:
    """Two workers' views of the directory they share, in one process: the other one fails the
    reload, then does not answer; either way the reload did not reach every worker."""
    model_swap = swap.ModelSwap(swap.load(served_file), loader=lambda: swap.load(served_file))
    this = swap.Workers(tmp_path, count=2, timeout=0.5)
    other = swap.Workers(tmp_path, count=2)

    def fail_the_next_reload() -> None:
        deadline = time.monotonic() + 30
        while (announcement := other.announced()) is None:
            assert time.monotonic() < deadline, "no reload was announced"
            time.sleep(0.01)
        other.acknowledge(announcement, "failed")

    failing = threading.Thread(target=fail_the_next_reload)
    failing.start()
    replace(served_file, challenger_path)
    result = swap.reload_everywhere(model_swap, this)
    failing.join()
    assert result.outcome == "swapped" and list(result.other_workers.values()) == ["failed"]
    assert not swap.reached_every_worker(result, this)

    result = swap.reload_everywhere(model_swap, this)
    assert result.outcome == "unchanged" and result.other_workers == {}
    assert "1 did not answer" in result.detail
    assert not swap.reached_every_worker(result, this)
    assert swap.reached_every_worker(result, None)


def test_a_request_in_flight_finishes_on_the_old_model(
    served_file: Path, challenger_path: Path, sample_rows: list[dict[str, float]]
) -> None:
    slow = SlowModel(joblib.load(served_file), seconds=1.5)
    joblib.dump(slow, served_file)
    old, new = sha256_of(served_file), sha256_of(challenger_path)

    with server(create_app(served_file)) as url, ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(call, f"{url}/predict", {"rows": sample_rows[:1]})
        time.sleep(0.3)
        replace(served_file, challenger_path)
        status, swapped = reload(url)
        assert (status, swapped["outcome"]) == (200, "swapped")
        assert not in_flight.done(), "the reload waited for the request in flight"
        _, after = call(f"{url}/predict", {"rows": sample_rows[:1]})
        status, before = in_flight.result()

    assert status == 200 and before["model_sha256"] == old
    assert after["model_sha256"] == new


def test_the_watcher_swaps_in_a_released_model_by_itself(
    served_file: Path, challenger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_RELOAD_SECONDS", "0.1")
    after = sha256_of(challenger_path)
    with TestClient(create_app(served_file)) as client:
        replace(served_file, challenger_path)
        deadline = time.monotonic() + 20
        while client.get("/ready").json()["model_sha256"] != after:
            assert time.monotonic() < deadline, "the watcher did not reload"
            time.sleep(0.05)
        assert 'model_reloads_total{outcome="swapped"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize("text", ["0", "-5", "soon", "nan"])
def test_a_bad_reload_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        reload_interval({"MODEL_RELOAD_SECONDS": text})
    assert reload_interval({}) is None and reload_interval({"MODEL_RELOAD_SECONDS": "30"}) == 30


def test_the_watcher_reloads_when_the_champion_alias_moves(
    trained_tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = tracking.configure(trained_tracking_uri)
    registry.set_alias(client, registry.CHAMPION, "1")
    monkeypatch.setenv("MODEL_URI", registry.model_uri(alias=registry.CHAMPION))
    with TestClient(create_app()) as app_client:
        served = app_client.app.state.served
        assert not changed(served), "the alias still names the version served"
        first = registry.get_version(client, "1")
        registry.register(client, first.source, run_id=first.run_id)
        registry.set_alias(client, registry.CHAMPION, "2")
        assert changed(served)
        result = app_client.post("/admin/reload").json()
        assert (result["outcome"], result["model_version"]) == ("swapped", "2")
        assert not changed(served)
