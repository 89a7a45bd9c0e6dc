"""`make load-test`: a service under load, its throughput, latency and errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI

from {{ package_name }}.app import create_app
from {{ package_name }}.load_test import main
from {{ package_name }}.prediction_log import read


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app(model_path: Path) -> FastAPI:
    return create_app(model_path)


@pytest.fixture
def service(app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free port of 127.0.0.1, in a thread."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def rows(tmp_path: Path, dataset: pd.DataFrame) -> Path:
    path = tmp_path / "rows.csv"
    dataset.head(20).to_csv(path, index=False)
    return path


def test_a_paced_load_is_answered_and_measured(
    app: FastAPI,
    service: str,
    rows: Path,
    serving_logs: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = [service, "--rows", str(rows), "--rate", "40", "--duration", "1"]
    assert main([*arguments, "--connections", "2"]) == 0
    output = capsys.readouterr().out
    assert "40 requests in" in output and ", 0 errors" in output, output
    assert "latency (ms): p50 " in output and "p99 " in output, output
    app.state.prediction_log.flush()  # written in the background
    records = list(read(serving_logs / "predictions.jsonl"))
    assert len(records) == 40 and all(record["synthetic"] for record in records)


def test_errors_are_counted_and_fail_the_run(
    rows: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    arguments = [nobody, "--rows", str(rows), "--rate", "20", "--duration", "0.5"]
    assert main(arguments) == 1
    output = capsys.readouterr().out
    assert "10 requests in" in output and ", 10 errors" in output, output
    assert "error: 10 x ConnectionRefusedError" in output, output
