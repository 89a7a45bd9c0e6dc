"""Monitoring from the prediction log: windows of the champion's traffic, drift against the
training reference, performance on the labels, and the policy's decision carried between runs."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ package_name }} import {{ ci_provider }} as provider
from {{ package_name }} import monitor, reference
from {{ package_name }}.policy import Policy, Rule
from {{ package_name }}.prediction_log import FeedbackLog, PredictionLog
from {{ package_name }}.score import load_model, predict

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# What the CI provider sets in a job, enough for a client of its API.
CLIENT_ENVIRONMENT = provider.EXAMPLE_ENVIRONMENT
SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "monitoring.yaml"
{%- if is_classification %}
PERFORMANCE = Rule("accuracy", "min", 0.9)
{%- else %}
PERFORMANCE = Rule("rmse", "max", 65.0)
{%- endif %}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RecordingDispatcher:
    reasons: list[str] = field(default_factory=list)

    def dispatch(self, reason: str) -> str:
        self.reasons.append(reason)
        return "recorded"


@pytest.fixture
def config(tmp_path: Path) -> monitor.MonitoringConfig:
    rules = [PERFORMANCE, Rule("max_psi", "max", 0.5)]
    return monitor.MonitoringConfig(
        policy=Policy(rules, violations=3, windows=4, cooldown=timedelta(hours=24)),
        window_size=200,
        min_labels=50,
        state=tmp_path / "monitoring" / "state.json",
        reports=tmp_path / "monitoring",
    )


@pytest.fixture(scope="module")
def profile(model_path: Path, dataset: pd.DataFrame) -> dict[str, Any]:
    """The reference of the model under test, as training records it."""
    model = load_model(model_path)
    features = dataset[model.features].sample(frac=0.8, random_state=42)
    return reference.build(features, model.model.predict(features))


def shifted(frame: pd.DataFrame, by: float = 1.5) -> pd.DataFrame:
    """A third of the features moved up by `by` of their standard deviation."""
    columns = list(frame.columns[: max(1, len(frame.columns) // 3)])
    moved = frame.copy()
    moved[columns] = moved[columns] + by * frame[columns].std()
    return moved


class Traffic:
    """Writes the prediction log and the labels the application would, for a model file."""

    def __init__(self, directory: Path, model_path: Path) -> None:
        self.predictions = directory / "predictions.jsonl"
        self.feedback = directory / "feedback.jsonl"
        self.model = load_model(model_path)

    def serve(
        self,
        rows: pd.DataFrame,
        labels: pd.Series | None = None,
        *,
        variant: str = "champion",
        version: str = "1",
        key: str = "customer",
    ) -> list[str]:
        features = rows[self.model.features]
        scored = predict(self.model, features)
        ids = PredictionLog(self.predictions).record(
            key=key,
            variant=variant,
            model_version=version,
            model_sha256=self.model.sha256,
            rows=features.to_dict(orient="records"),
            predictions=scored.predictions,
{%- if is_classification %}
            probabilities=scored.probabilities,
{%- endif %}
            latency_ms=1.0,
        )
        if labels is not None:
            self.label(ids, labels)
        return ids

    def label(self, ids: list[str], labels: pd.Series) -> None:
        FeedbackLog(self.feedback).record(list(zip(ids, labels.tolist(), strict=True)))

    def records(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        def read(path: Path) -> list[dict[str, Any]]:
            if not path.exists():
                return []
            return [json.loads(line) for line in path.read_text().splitlines()]

        return read(self.predictions), read(self.feedback)


@pytest.fixture
def traffic(tmp_path: Path, model_path: Path) -> Traffic:
    return Traffic(tmp_path / "logs", model_path)


def sample(dataset: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return dataset.sample(rows, replace=True, random_state=seed).reset_index(drop=True)


def check(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    fired: list[datetime] | None = None,
) -> monitor.Check:
    predictions, feedback = traffic.records()
    return monitor.check(config, predictions, feedback, lambda _: profile, fired or [], NOW)


def test_traffic_like_the_training_data_fires_nothing(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
) -> None:
    rows = sample(dataset, 920, seed=0)
    traffic.serve(rows, rows["target"])

    result = check(config, traffic, profile)

    assert [window.index for window in result.windows] == [1, 2, 3, 4]
    assert result.pending == 120
    assert not any(window.violated for window in result.windows), result.to_markdown()
    assert all(window.drifted == [] for window in result.windows)
    assert all(window.labelled == 200 for window in result.windows)
    assert PERFORMANCE.metric in result.windows[-1].metrics
    assert not result.decision.fire and result.model_version == "1"


def test_drifted_traffic_fires_the_policy(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
) -> None:
    good, bad = sample(dataset, 200, seed=1), shifted(sample(dataset, 600, seed=2))
    traffic.serve(good, good["target"])
    traffic.serve(bad, bad["target"])

    result = check(config, traffic, profile)

    assert [window.violated for window in result.windows] == [False, True, True, True]
    assert result.windows[-1].drifted
    assert any(line.startswith("max_psi") for line in result.windows[-1].broken)
    assert result.decision.fire, result.decision
    drifted = {found.name for found in result.drift if found.drifted}
    assert set(dataset.columns[:3]) <= drifted
    # Inside the cooldown the same windows do not fire it again.
    again = check(config, traffic, profile, fired=[NOW - timedelta(hours=1)])
    assert not again.decision.fire and again.decision.blocked_by == "cooldown"


def test_a_model_that_goes_wrong_fires_on_performance_alone(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
) -> None:
    rows = sample(dataset, 800, seed=3)
{%- if is_classification %}
    wrong = 1 - rows["target"]  # the world changed: every label flipped
{%- else %}
    wrong = rows["target"] + 150.0  # the world changed: every outcome far higher
{%- endif %}
    traffic.serve(rows, wrong)

    result = check(config, traffic, profile)

    assert all(window.drifted == [] for window in result.windows)
    assert all(window.broken[0].startswith(PERFORMANCE.metric) for window in result.windows)
    assert result.decision.fire


def test_without_enough_labels_performance_is_not_judged(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
) -> None:
    rows = sample(dataset, 800, seed=4)
{%- if is_classification %}
    wrong = 1 - rows["target"]
{%- else %}
    wrong = rows["target"] + 150.0
{%- endif %}
    ids = traffic.serve(rows)
    # 40 labels a window, fewer than min_labels.
    traffic.label(ids[::5], wrong[::5])

    result = check(config, traffic, profile)

    assert all(PERFORMANCE.metric not in window.metrics for window in result.windows)
    assert not result.decision.fire


def test_only_the_latest_version_of_the_champion_is_monitored(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
) -> None:
    drifted = shifted(sample(dataset, 800, seed=5))
    traffic.serve(drifted, drifted["target"], version="1")  # the old champion
    traffic.serve(drifted, drifted["target"], version="2", variant="challenger")
    traffic.serve(drifted, drifted["target"], version="2", key="synthetic:release-test")
    fine = sample(dataset, 400, seed=6)
    traffic.serve(fine, fine["target"], version="2")

    result = check(config, traffic, profile)

    assert result.model_version == "2"
    assert len(result.windows) == 2 and not any(w.violated for w in result.windows)
    assert not result.decision.fire


def test_a_run_dispatches_training_keeps_its_state_and_prints_the_issue_without_a_client(
    config: monitor.MonitoringConfig,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = shifted(sample(dataset, 800, seed=7))
    traffic.serve(rows, rows["target"])
    dispatcher = RecordingDispatcher()

    def run(now: datetime) -> monitor.Check:
        result, status = monitor.run(
            config,
            str(traffic.predictions),
            str(traffic.feedback),
            dispatcher=dispatcher,
            tracker=None,
            profile_of=lambda _: profile,
            now=now,
        )
        assert status == monitor.EXIT_OK
        return result

    assert run(NOW).decision.fire
    assert len(dispatcher.reasons) == 1 and "version 1" in dispatcher.reasons[0]
    printed = capsys.readouterr().out
    assert "dry run" in printed and "Retraining triggered" in printed
    assert monitor.load_state(config.state) == [NOW]
    report = json.loads((config.reports / "report.json").read_text())
    assert report["decision"]["fire"] and report["violated"] == [True] * 4
    assert "the retraining policy fires" in (config.reports / "report.md").read_text()

    # The next scheduled run, an hour later: the state holds the cooldown.
    later = run(NOW + timedelta(hours=1))
    assert not later.decision.fire and later.decision.blocked_by == "cooldown"
    assert len(dispatcher.reasons) == 1
    # A day later, with the same windows still violated, it fires again.
    assert run(NOW + timedelta(hours=25)).decision.fire
    assert len(dispatcher.reasons) == 2
    assert monitor.load_state(config.state) == [NOW, NOW + timedelta(hours=25)]


def test_training_is_dispatched_on_the_branch_the_monitor_runs_on(
    config: monitor.MonitoringConfig,
) -> None:
    client = provider.from_env(CLIENT_ENVIRONMENT)
    assert client is not None
    on_branch = monitor.dispatcher_for(config, client, {provider.REF_ENV: "trunk"})
    assert on_branch == monitor.PipelineDispatcher(client, provider.TRAINING, "trunk")
    assert monitor.dispatcher_for(config, client, {}).ref == "main"
    pinned = replace(config, ref="release")
    assert monitor.dispatcher_for(pinned, client, {provider.REF_ENV: "x"}).ref == "release"
    dry = monitor.dispatcher_for(config, None, {}).dispatch("drift")
    assert dry.startswith(f"dry run: would dispatch {provider.TRAINING} on main")
    nothing = monitor.dispatcher_for(replace(config, dispatch="none"), None)
    assert isinstance(nothing, monitor.NoDispatcher)


def test_the_state_forgets_what_no_longer_matters(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    fired = [NOW - timedelta(days=30), NOW - timedelta(days=2), NOW]
    monitor.save_state(path, fired, NOW, timedelta(hours=24))
    assert monitor.load_state(path) == fired[1:]
    assert monitor.load_state(tmp_path / "none.json") == []


def test_the_command_needs_a_prediction_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["--config", str(SHIPPED), "--predictions", str(tmp_path / "none.jsonl")]
    assert monitor.main(arguments) == monitor.EXIT_ERROR
    assert "no prediction log" in capsys.readouterr().err


def test_the_command_reads_the_reference_it_is_given(
    tmp_path: Path,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = sample(dataset, 1000, seed=8)
    traffic.serve(rows, rows["target"])
    reference.save(profile, tmp_path / "reference.json")
    monkeypatch.setenv("MONITORING_REFERENCE", str(tmp_path / "reference.json"))
    monkeypatch.chdir(tmp_path)
    arguments = ["--config", str(SHIPPED), "--predictions", str(traffic.predictions)]
    assert monitor.main([*arguments, "--feedback", str(traffic.feedback)]) == monitor.EXIT_OK
    printed = capsys.readouterr().out
    assert "the retraining policy holds" in printed
    assert (tmp_path / "reports" / "monitoring" / "report.md").exists()


def test_the_logs_can_be_urls(
    tmp_path: Path,
    traffic: Traffic,
    profile: dict[str, Any],
    dataset: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Where production ships its logs: served here over HTTP on the loopback interface."""
    rows = sample(dataset, 400, seed=9)
    traffic.serve(rows, rows["target"])
    reference.save(profile, tmp_path / "reference.json")
    handler = functools.partial(QuietHandler, directory=str(traffic.predictions.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PREDICTION_LOG", f"{base}/predictions.jsonl")
    monkeypatch.setenv("FEEDBACK_LOG", f"{base}/feedback.jsonl")
    monkeypatch.setenv("MONITORING_REFERENCE", str(tmp_path / "reference.json"))
    monkeypatch.chdir(tmp_path)
    try:
        assert monitor.main(["--config", str(SHIPPED)]) == monitor.EXIT_OK
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    report = json.loads((tmp_path / "reports" / "monitoring" / "report.json").read_text())
    assert [window["labelled"] for window in report["windows"]] == [200, 200]


def test_the_reference_of_a_version_comes_from_its_training_run(
    trained_tracking_uri: str, config: monitor.MonitoringConfig
) -> None:
    loaded = monitor.reference_loader(config)("1")
    assert loaded["format"] == reference.FORMAT and loaded["features"]
    with pytest.raises(reference.ReferenceError):
        monitor.reference_loader(replace(config, reference="missing.json"))("1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("windows:\n  size: 0\n", "`windows.size` must be a positive integer"),
        ("drift:\n  psi_threshold: -1\n", "`drift.psi_threshold` must be a positive number"),
        ("retrain:\n  dispatch: carrier-pigeon\n", "`retrain.dispatch` is one of"),
        ("schedule: daily\n", "`schedule` must be a cron expression of 5 fields"),
        ("schedule: '17 3 * *'\n", "`schedule` must be a cron expression of 5 fields"),
        ("polcy: {}\n", "expected a mapping"),
        ("policy:\n  violated_when: {}\n", "at least one metric"),
    ],
)
def test_a_bad_configuration_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "monitoring.yaml"
    policy = "policy:\n  violated_when:\n    max_psi:\n      max: 0.5\n"
    path.write_text(text if text.startswith("pol") else policy + text)
    with pytest.raises(monitor.MonitoringError, match=message):
        monitor.load_config(path, environ={})
