"""Release tests: what every model version must show against a running service.

They call a deployed service over HTTP at `RELEASE_BASE_URL`: the release (`make release`) runs
them against staging, and `make release-test BASE_URL=http://host:port` against any deployment.
Without a URL they are not collected at all, so the unit run (`pytest`) needs no server and stays
offline.

`EXPECTED_MODEL_VERSION`, when set, is the version the service must serve; `FEEDBACK_TOKEN`, the
token it takes labels with (`make release` gives staging one; a service on loopback needs none).
configs/release.yaml (or the file `RELEASE_CONFIG` names) holds the latency budget, the known
cases and the behavioural expectations. The rows come from
the project's data (`RELEASE_DATA`, a CSV file with the features and `target`; default: the data
`make ingest` gathers). Every request carries a `synthetic:` key, so reports leave them out.
"""

from __future__ import annotations

import itertools
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ package_name }}.data.ingest import load_dataset
from {{ package_name }}.prediction_log import SYNTHETIC_PREFIX

BASE_URL = os.environ.get("RELEASE_BASE_URL", "").rstrip("/")
SHIPPED_SETTINGS = Path(__file__).resolve().parents[2] / "configs" / "release.yaml"
SETTINGS = Path(os.environ.get("RELEASE_CONFIG") or SHIPPED_SETTINGS)

if not BASE_URL:
    # No service to test: collect nothing.
    collect_ignore_glob = ["test_*.py"]


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    seconds: float


class Service:
    """A small HTTP client of the service under test, on the standard library alone."""

    def __init__(
        self, base_url: str, timeout: float = 30.0, feedback_token: str | None = None
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.feedback_token = feedback_token
        self._keys = itertools.count()

    def key(self) -> str:
        """A fresh key of synthetic traffic."""
        return f"{SYNTHETIC_PREFIX}release-test-{next(self._keys)}"

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json"} if data is not None else {}
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=data, method=method, headers={**sent, **(headers or {})}
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        seconds = time.perf_counter() - started
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = content.decode(errors="replace")
        return Response(status, parsed, seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Response:
        return self.request("POST", path, body)

    def predict(self, rows: list[dict[str, float]], key: str | None = None) -> Response:
        return self.post("/predict", {"rows": rows, "key": key or self.key()})

    def feedback(self, body: Any, *, with_token: bool = True) -> Response:
        """Posts labels, with the bearer token when there is one and `with_token`."""
        token = self.feedback_token if with_token else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.request("POST", "/feedback", body, headers)


@dataclass(frozen=True)
class Settings:
    requests: int
    p95_ms: float
    batch_rows: int
    batch_ms: float
    known_rows: int
    known_limits: dict[str, float]
    behaviour_rows: int
    step: float
    directional: dict[str, str]


def load_settings(path: Path = SETTINGS) -> Settings:
    raw = yaml.safe_load(path.read_text()) or {}
    latency, known, behaviour = raw["latency"], dict(raw["known_cases"]), raw["behaviour"]
    expectations = behaviour.get("directional") or {}
    directional = {str(name): str(way) for name, way in expectations.items()}
    for name, way in directional.items():
        if way not in {"increases", "decreases"}:
            raise ValueError(f"{path}: `behaviour.directional.{name}`: increases or decreases")
    return Settings(
        requests=int(latency["requests"]),
        p95_ms=float(latency["p95_ms"]),
        batch_rows=int(latency["batch_rows"]),
        batch_ms=float(latency["batch_ms"]),
        known_rows=int(known.pop("rows")),
        known_limits={str(name): float(limit) for name, limit in known.items()},
        behaviour_rows=int(behaviour["rows"]),
        step=float(behaviour["step"]),
        directional=directional,
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per directional expectation of configs/release.yaml."""
    if "expectation" in metafunc.fixturenames:
        expectations = sorted(load_settings().directional.items())
        metafunc.parametrize(
            "expectation", expectations, ids=[f"{name}-{way}" for name, way in expectations]
        )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def service() -> Service:
    return Service(BASE_URL, feedback_token=os.environ.get("FEEDBACK_TOKEN") or None)


@pytest.fixture(scope="session")
def version(service: Service) -> dict[str, Any]:
    response = service.get("/version")
    assert response.status == 200, response.body
    return response.body


@pytest.fixture(scope="session")
def features(version: dict[str, Any]) -> list[str]:
    return list(version["features"])


@pytest.fixture(scope="session")
def data(features: list[str]) -> pd.DataFrame:
    """Labelled rows of the project's data, with the features the service takes."""
    source = os.environ.get("RELEASE_DATA")
    frame = pd.read_csv(source) if source else load_dataset()
    missing = sorted(set(features) - set(frame.columns))
    assert not missing, f"the data lacks features the service takes: {missing}"
    return frame[[*features, "target"]]


@pytest.fixture(scope="session")
def rows(data: pd.DataFrame, features: list[str], settings: Settings) -> list[dict[str, float]]:
    """A reproducible sample of rows, as the service receives them."""
    sample = data.sample(min(settings.behaviour_rows, len(data)), random_state=0)
    return sample[features].to_dict(orient="records")
