"""A load test against any deployment: `make load-test BASE_URL=... [RATE=...] [DURATION=...]`.

It posts one-row predictions to `BASE_URL/predict` for `DURATION` seconds (default 10) from a few
connections kept alive (`--connections`, default 8), and prints the throughput, the latency
percentiles and the errors. With `RATE`, requests are sent at that many per second on a fixed
schedule, and a request's latency counts from when it was due, so a service that falls behind
shows it in its latency instead of being sent less; without, each connection sends its next
request as soon as the last is answered, which measures the most the service can serve.

The rows are those of data/raw/dataset.csv (`--rows` for another CSV file), without the target,
and each request's key starts with `synthetic:`, so the prediction log marks them and reports leave
them out. Only the standard library is used: it runs wherever the project is installed. It exits
1 when a request failed.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import itertools
import json
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from .prediction_log import SYNTHETIC_PREFIX

DEFAULT_ROWS = Path("data/raw/dataset.csv")
TARGET = "target"


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(seconds)
            else:
                self.errors[error] = self.errors.get(error, 0) + 1


def read_rows(path: Path) -> list[dict[str, float]]:
    with path.open(newline="") as file:
        return [
            {name: float(value) for name, value in row.items() if name != TARGET}
            for row in csv.DictReader(file)
        ]


def percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def run(
    base_url: str,
    rows: list[dict[str, float]],
    duration: float,
    rate: float | None,
    connections: int,
    timeout: float = 30.0,
) -> tuple[Results, float]:
    """Sends the requests; the results and the seconds it took."""
    url = urllib.parse.urlsplit(base_url.rstrip("/"))
    path = f"{url.path}/predict"
    bodies = [
        json.dumps({"rows": [row], "key": f"{SYNTHETIC_PREFIX}load-test-{index}"}).encode()
        for index, row in enumerate(rows)
    ]
    results = Results()
    counter = itertools.count()
    started = time.perf_counter()
    deadline = started + duration

    def connection() -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        return kind(url.hostname or "127.0.0.1", url.port, timeout=timeout)

    def send() -> None:
        client = connection()
        while True:
            number = next(counter)
            due = started + number / rate if rate else time.perf_counter()
            if due >= deadline:
                break
            if rate:
                time.sleep(max(0.0, due - time.perf_counter()))
            error = None
            try:
                client.request(
                    "POST", path, bodies[number % len(bodies)], {"Content-Type": "application/json"}
                )
                response = client.getresponse()
                response.read()
                if response.status != 200:
                    error = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exception:
                error = type(exception).__name__
                client.close()
                client = connection()
            results.add(time.perf_counter() - due, error)
        client.close()

    threads = [threading.Thread(target=send) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def report(results: Results, seconds: float) -> str:
    answered = len(results.latencies)
    failed = sum(results.errors.values())
    lines = [
        f"{answered + failed} requests in {seconds:.1f} s: {answered / seconds:.1f} answered/s, "
        f"{failed} errors"
    ]
    if results.latencies:
        values = sorted(value * 1000 for value in results.latencies)
        lines.append(
            "latency (ms): "
            + ", ".join(
                f"p{round(share * 100)} {percentile(values, share):.1f}"
                for share in (0.5, 0.9, 0.99)
            )
            + f", max {values[-1]:.1f}, mean {statistics.fmean(values):.1f}"
        )
    for error, count in sorted(results.errors.items()):
        lines.append(f"error: {count} x {error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load-test a deployment's /predict.")
    parser.add_argument("base_url", help="the service, such as http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, help="requests per second (default: all it serves)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="connections (default 8)")
    parser.add_argument("--rows", type=Path, default=DEFAULT_ROWS, help="CSV file of rows to send")
    args = parser.parse_args(argv)
    if args.rate is not None and args.rate <= 0 or args.duration <= 0 or args.connections < 1:
        parser.error("--rate and --duration must be positive, --connections at least 1")
    try:
        rows = read_rows(args.rows)
    except OSError as error:
        print(f"error: {args.rows}: {error} (`make ingest` gathers it)", file=sys.stderr)
        return 2
    if not rows:
        print(f"error: {args.rows} has no rows", file=sys.stderr)
        return 2
    pace = f"{args.rate:g} requests/s" if args.rate else "as fast as it answers"
    print(f"{args.base_url}/predict, {args.duration:g} s, {pace}, {args.connections} connections")
    results, seconds = run(args.base_url, rows, args.duration, args.rate, args.connections)
    print(report(results, seconds))
    return 1 if results.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
