"""The side-by-side measurement of benches/serve.sh: a generated application and the bare endpoint
(bare.py) on the same model, each under uvicorn with one worker, loaded in turn by wrk (1 thread,
8 connections, loopback) with the same one-row request, `--rounds` times each, interleaved so that
what else the machine does weighs on both sides alike.

Prints each run, then the median throughput and latency of each side and their ratios; exits 1
when the application serves under `--min-throughput` of the bare endpoint's requests per second,
or its p99 latency is over `--max-p99` of the bare endpoint's.

Usage: measure.py --project DIR --python PYTHON --package NAME [--rounds N] [--seconds S]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Run:
    side: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    name: str, command: list[str], env: dict[str, str], cwd: Path, logs: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (logs / f"{name}.log").open("w")
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log"],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen, url: str, body: bytes, logs: Path, name: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"error: {name} stopped:\n{(logs / f'{name}.log').read_text()}")
        try:
            request = urllib.request.Request(
                f"{url}/predict", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"error: {name} did not answer /predict within 120 s")


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def wrk(side: str, url: str, script: Path, seconds: int, connections: int) -> Run:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [*command, f"{url}/predict"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Run(side, rate, milliseconds(percentiles["50"]), milliseconds(percentiles["99"]), errors)


def one_row(project: Path) -> dict[str, float]:
    with (project / "data/raw/dataset.csv").open() as file:
        row = next(csv.DictReader(file))
    return {name: float(value) for name, value in row.items() if name != "target"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--package", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--min-throughput", type=float, default=0.8)
    parser.add_argument("--max-p99", type=float, default=1.25)
    args = parser.parse_args()

    project = args.project.resolve()
    model = project / "models/model.joblib"
    body = json.dumps({"rows": [one_row(project)]}).encode()
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
    )
    base = {**os.environ, "MODEL_PATH": str(model), "PYTHONDONTWRITEBYTECODE": "1"}
    base.pop("MODEL_URI", None)
    uvicorn = [args.python, "-m", "uvicorn"]
    sides = {
        "bare endpoint": start(
            "bare", [*uvicorn, "bare:app"], {**base, "PYTHONPATH": str(HERE)}, work, work
        ),
        "generated app": start(
            "app",
            [*uvicorn, f"{args.package}.app:app"],
            # As it serves in production: the champion alone, every prediction logged.
            {
                **base,
                "PYTHONPATH": str(project / "src"),
                "CHALLENGER_URI": "",
                "PREDICTION_LOG": str(work / "predictions.jsonl"),
            },
            project,
            work,
        ),
    }
    runs: list[Run] = []
    try:
        for name, (process, url) in sides.items():
            wait_ready(process, url, body, work, name.split()[0])
            wrk(name, url, script, 2, args.connections)  # warm up
        for _ in range(args.rounds):
            for name, (_, url) in sides.items():
                run = wrk(name, url, script, args.seconds, args.connections)
                runs.append(run)
                print(
                    f"{name:>14}: {run.requests_per_second:7.1f} requests/s, "
                    f"p50 {run.p50_ms:6.2f} ms, p99 {run.p99_ms:6.2f} ms, {run.errors} errors",
                    flush=True,
                )
    finally:
        for process, _ in sides.values():
            process.terminate()
            process.wait(timeout=30)

    def median(side: str, field: str) -> float:
        return statistics.median(getattr(run, field) for run in runs if run.side == side)

    bare, app = "bare endpoint", "generated app"
    print()
    for side in (bare, app):
        print(
            f"{side:>14}: median {median(side, 'requests_per_second'):7.1f} requests/s, "
            f"p50 {median(side, 'p50_ms'):6.2f} ms, p99 {median(side, 'p99_ms'):6.2f} ms"
        )
    throughput = median(app, "requests_per_second") / median(bare, "requests_per_second")
    p99 = median(app, "p99_ms") / median(bare, "p99_ms")
    errors = sum(run.errors for run in runs)
    print(
        f"generated app / bare endpoint: throughput {throughput:.2f}x "
        f"(target: at least {args.min_throughput}x), p99 {p99:.2f}x "
        f"(target: at most {args.max_p99}x), {errors} errors"
    )
    missed = throughput < args.min_throughput or p99 > args.max_p99 or errors
    if missed:
        print("MISSED", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
