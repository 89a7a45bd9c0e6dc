"""Monitoring in production, and the retraining it triggers: `make monitor`.

The same as `python -m {{ package_name }}.monitor`;
the scheduled Monitor workflow runs it.

1. Read the prediction log and the labels the application wrote (configs/serving.yaml; paths or
   http(s) URLs); keep the champion's own traffic of the latest version it served, leaving out
   the challenger's and synthetic traffic (the release tests').
2. Cut it into windows of `windows.size` consecutive predictions (configs/monitoring.yaml) and
   measure each complete one: drift of every feature and of the predictions against the training
   reference of that version (drift.py, reference.py), and, when enough labels arrived,
   performance ({% if is_classification %}accuracy, F1, ROC AUC{% else %}RMSE, MAE, R²{% endif %}).
3. Judge each window by the policy's rules and decide (policy.py): at least N of the last M windows
   violated and the latest too, outside the cooldown, under the daily cap.
4. When the policy fires: start training (the training pipeline, through {{ ci_provider }}.py),
   file or update the issue of that version (issues.py) and record the time in the state file,
   which the cooldown and the cap read on the next run.

It writes reports/monitoring/report.json and report.md. Exit status: 0 checked (whether or not the
policy fired), 1 the policy fired and training could not be dispatched or its issue not filed, 2
cannot check (no prediction log, no reference, a configuration to fix).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml

from . import ab_report, drift, issues, policy, prediction_log, reference, serving
from . import {{ ci_provider }} as provider
from .api import ApiError

DEFAULT_CONFIG = Path("configs/monitoring.yaml")
REFERENCE_ENV = "MONITORING_REFERENCE"
TRAINING_REFERENCE = Path("reports/training/reference.json")
KEYS = {"schedule", "windows", "drift", "performance", "policy", "retrain", "state", "reports"}
DISPATCHERS = (provider.NAME, "local", "none")
# How long the state remembers that the policy fired, beyond the cooldown.
STATE_DAYS = 7
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class MonitoringError(Exception):
    """Monitoring cannot run: no prediction log, no reference, a configuration to fix."""


@dataclass(frozen=True)
class MonitoringConfig:
    policy: policy.Policy
    window_size: int = 200
    keep: int = 12
    psi_threshold: float = 0.25
    reference: str | None = None
    min_labels: int = 50
    schedule: str = "17 3 * * *"
    dispatch: str = provider.NAME
    workflow: str = provider.TRAINING
    ref: str = ""
    state: Path = Path("reports/monitoring/state.json")
    reports: Path = Path("reports/monitoring")


def _section(raw: Mapping[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
    section = raw.get(name) or {}
    if not isinstance(section, dict) or set(section) - keys:
        raise MonitoringError(f"`{name}` takes {sorted(keys)}")
    return section


def _number(value: Any, where: str, *, integer: bool = False) -> float:
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "a positive integer" if integer else "a positive number"
        raise MonitoringError(f"`{where}` must be {kind}, not {value!r}")
    return value


def is_cron(value: Any) -> bool:
    """Whether `value` is a cron expression of 5 fields (minute hour day month weekday), of the
    characters cron reads."""
    if not isinstance(value, str):
        return False
    fields = value.split()
    allowed = set("0123456789*/,-")
    return len(fields) == 5 and all(set(part) <= allowed for part in fields)


def load_config(
    path: Path = DEFAULT_CONFIG, environ: Mapping[str, str] = os.environ
) -> MonitoringConfig:
    """Reads configs/monitoring.yaml; `MONITORING_REFERENCE` overrides `drift.reference`."""
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        if not isinstance(raw, dict) or set(raw) - KEYS:
            raise MonitoringError(f"expected a mapping of {sorted(KEYS)}")
        windows = _section(raw, "windows", {"size", "keep"})
        drift_section = _section(raw, "drift", {"psi_threshold", "reference"})
        performance = _section(raw, "performance", {"min_labels"})
        retrain = _section(raw, "retrain", {"dispatch", "workflow", "ref"})
        dispatch = str(retrain.get("dispatch", provider.NAME))
        if dispatch not in DISPATCHERS:
            raise MonitoringError(f"`retrain.dispatch` is one of {DISPATCHERS}, not {dispatch!r}")
        try:
            rules = policy.parse(raw.get("policy"))
        except policy.PolicyError as error:
            raise MonitoringError(str(error)) from None
        source = environ.get(REFERENCE_ENV) or drift_section.get("reference") or None
        defaults = MonitoringConfig(rules)
        schedule = raw.get("schedule", defaults.schedule)
        if not is_cron(schedule):
            raise MonitoringError(
                f"`schedule` must be a cron expression of 5 fields, not {schedule!r}"
            )
        return MonitoringConfig(
            policy=rules,
            window_size=int(_number(windows.get("size", 200), "windows.size", integer=True)),
            keep=int(_number(windows.get("keep", 12), "windows.keep", integer=True)),
            psi_threshold=float(
                _number(drift_section.get("psi_threshold", 0.25), "drift.psi_threshold")
            ),
            reference=str(source) if source else None,
            min_labels=int(
                _number(performance.get("min_labels", 50), "performance.min_labels", integer=True)
            ),
            schedule=schedule,
            dispatch=dispatch,
            workflow=str(retrain.get("workflow", defaults.workflow)),
            ref=str(retrain.get("ref", defaults.ref)),
            state=Path(raw.get("state", defaults.state)),
            reports=Path(raw.get("reports", defaults.reports)),
        )
    except MonitoringError as error:
        raise MonitoringError(f"{path}: {error}") from None


@dataclass(frozen=True)
class Window:
    index: int
    first: str
    last: str
    predictions: int
    labelled: int
    metrics: dict[str, float]
    drifted: list[str]
    broken: list[str]

    @property
    def violated(self) -> bool:
        return bool(self.broken)


@dataclass(frozen=True)
class Check:
    model_version: str | None
    model_sha256: str | None
    windows: list[Window]
    decision: policy.Decision
    pending: int = 0
    drift: list[drift.Drift] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "violated": [window.violated for window in self.windows]}

    def to_markdown(self) -> str:
        verdict = "fires" if self.decision.fire else "holds"
        lines = [
            f"## Monitoring: the retraining policy {verdict}",
            "",
            f"Model version {self.model_version or '-'}: {self.decision.reason}.",
        ]
        names = sorted({name for window in self.windows for name in window.metrics})
        if self.windows:
            lines.append("")
            lines.append(
                "| window | predictions | labelled | "
                + "".join(f"{name} | " for name in names)
                + "violated |"
            )
            lines.append("|---" * (4 + len(names)) + "|")
            for window in self.windows:
                values = "".join(
                    f"{window.metrics[name]:.4g} | " if name in window.metrics else "- | "
                    for name in names
                )
                verdict = "; ".join(window.broken) if window.broken else "no"
                lines.append(
                    f"| {window.index} | {window.predictions} | {window.labelled} | "
                    f"{values}{verdict} |"
                )
        if self.drift:
            lines += ["", "Drift of the latest window:", "", "| feature | PSI | KS | drifted |"]
            lines.append("|---|---|---|---|")
            for found in sorted(self.drift, key=lambda d: -d.psi):
                mark = "yes" if found.drifted else "no"
                lines.append(f"| {found.name} | {found.psi:.3f} | {found.ks:.3f} | {mark} |")
        if self.pending:
            lines += ["", f"{self.pending} predictions wait for their window to fill."]
        return "\n".join(lines) + "\n"


def served_records(
    predictions: list[dict[str, Any]],
) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """The version the champion served last, its sha256, and its real predictions in order."""
    real = [
        record
        for record in predictions
        if not record.get("synthetic") and record.get("variant") == serving.CHAMPION
    ]
    if not real:
        return None, None, []
    real.sort(key=lambda record: str(record.get("timestamp", "")))
    latest = real[-1]
    key = (latest.get("model_version"), latest.get("model_sha256"))
    served = [r for r in real if (r.get("model_version"), r.get("model_sha256")) == key]
    return key[0], key[1], served


def judge(
    index: int,
    records: list[dict[str, Any]],
    labels: Mapping[str, float],
    profile: dict[str, Any],
    config: MonitoringConfig,
) -> tuple[Window, drift.DriftReport]:
    """The metrics of one window of predictions, and the rules of the policy they break."""
    features = pd.DataFrame([record["features"] for record in records])
    predictions = [record["prediction"] for record in records]
    drifted = drift.compare(profile, features, predictions, threshold=config.psi_threshold)
    metrics = drifted.metrics()
    labelled = [record for record in records if record["prediction_id"] in labels]
    if len(labelled) >= config.min_labels:
        truth = pd.Series([labels[record["prediction_id"]] for record in labelled], dtype=float)
        metrics.update(ab_report.metrics(truth, labelled))
    window = Window(
        index=index,
        first=str(records[0].get("timestamp", "")),
        last=str(records[-1].get("timestamp", "")),
        predictions=len(records),
        labelled=len(labelled),
        metrics=metrics,
        drifted=drifted.drifted,
        broken=config.policy.broken(metrics),
    )
    return window, drifted


def check(
    config: MonitoringConfig,
    predictions: list[dict[str, Any]],
    feedback: list[dict[str, Any]],
    profile_of: Callable[[str | None], dict[str, Any]],
    fired: list[datetime],
    now: datetime,
) -> Check:
    """Measures the complete windows of the champion's traffic and asks the policy."""
    version, sha256, records = served_records(predictions)
    complete = len(records) // config.window_size
    first = max(0, complete - config.keep)
    if complete == 0:
        decision = policy.decide(config.policy, [], fired, now)
        return Check(version, sha256, [], decision, pending=len(records))
    profile = profile_of(version)
    labels = ab_report.labels_by_prediction(feedback)
    windows, latest = [], None
    for index in range(first, complete):
        chunk = records[index * config.window_size : (index + 1) * config.window_size]
        window, latest = judge(index + 1, chunk, labels, profile, config)
        windows.append(window)
    decision = policy.decide(config.policy, [window.violated for window in windows], fired, now)
    pending = len(records) - complete * config.window_size
    return Check(version, sha256, windows, decision, pending, latest.features if latest else [])


def load_state(path: Path) -> list[datetime]:
    """When the policy fired before, from the state file (none if there is no file yet)."""
    if not path.is_file():
        return []
    content = json.loads(path.read_text() or "{}")
    return [datetime.fromisoformat(when) for when in content.get("fired", [])]


def save_state(path: Path, fired: list[datetime], now: datetime, cooldown: timedelta) -> None:
    """Keeps the times that still matter: those within the cooldown or the last week."""
    horizon = now - max(cooldown, timedelta(days=STATE_DAYS))
    kept = sorted(when for when in fired if when >= horizon)
    content = {"fired": [when.isoformat(timespec="seconds") for when in kept]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


class Dispatcher(Protocol):
    def dispatch(self, reason: str) -> str:
        """Starts training; returns what it did. Raises `ApiError` when it cannot."""
        ...


class Client(Protocol):
    def dispatch(self, workflow: str, ref: str, reason: str) -> str: ...


@dataclass(frozen=True)
class PipelineDispatcher:
    """Starts the training pipeline through the CI provider's API; a dry run without a client."""

    client: Client | None
    workflow: str = provider.TRAINING
    ref: str = "main"

    def dispatch(self, reason: str) -> str:
        if self.client is None:
            inputs = {"reason": reason[:1000]}
            return f"dry run: would dispatch {self.workflow} on {self.ref} with {inputs}"
        return self.client.dispatch(self.workflow, self.ref, reason)


@dataclass(frozen=True)
class LocalDispatcher:
    """Trains and gates here, as `make train evaluate` does."""

    train_args: list[str] = field(default_factory=list)
    gate_args: list[str] = field(default_factory=list)

    def dispatch(self, reason: str) -> str:
        from . import gate, pipeline

        print(f"training here, as the Train workflow would: {reason}", flush=True)
        if pipeline.main(self.train_args) != 0:
            return "trained locally: the pipeline failed"
        verdict = {0: "passed", 1: "failed"}.get(gate.main(self.gate_args), "could not check")
        return f"trained locally; the gate {verdict}"


class NoDispatcher:
    def dispatch(self, reason: str) -> str:
        return "retrain.dispatch is `none`: nothing was started"


def dispatcher_for(
    config: MonitoringConfig, client: Client | None, environ: Mapping[str, str] = os.environ
) -> Dispatcher:
    if config.dispatch == provider.NAME:
        ref = config.ref or provider.default_ref(environ)
        return PipelineDispatcher(client, config.workflow, ref)
    if config.dispatch == "local":
        return LocalDispatcher()
    return NoDispatcher()


def fired_report(result: Check, dispatched: str) -> issues.BugReport:
    """The issue of a policy that fired: one per model version, updated each time it fires."""
    from . import training_data
    from .registry import MODEL_NAME

    version = result.model_version or (result.model_sha256 or "?")[:12]
    body = "\n".join(
        [
            f"The retraining policy fired for `{MODEL_NAME}` version {version}.",
            "",
            f"- training: {dispatched}",
            f"- training data: {training_data.planned()}",
            "",
            result.to_markdown(),
        ]
    )
    return issues.BugReport(
        title=f"Retraining triggered: `{MODEL_NAME}` version {version} degraded in production",
        body=body,
        fingerprint=issues.fingerprint("retraining-policy", MODEL_NAME, version),
    )


def fetch(location: str, directory: Path) -> Path:
    """A local copy of a log given as an http(s) URL; a path as it is."""
    if not location.startswith(("http://", "https://")):
        return Path(location)
    path = directory / Path(location.split("?")[0]).name
    with urllib.request.urlopen(location, timeout=60) as response:
        path.write_bytes(response.read())
    return path


def reference_loader(config: MonitoringConfig) -> Callable[[str | None], dict[str, Any]]:
    """Where the training reference of a version comes from: the configured file, else the
    version's training run in MLflow, else reports/training/reference.json."""

    def load(version: str | None) -> dict[str, Any]:
        if config.reference:
            return reference.load(Path(config.reference))
        if version is not None:
            from . import registry, tracking

            try:
                registered = registry.get_version(tracking.configure(), version)
                return reference.from_run(registered.run_id)
            except (registry.RegistryError, reference.ReferenceError) as error:
                if not TRAINING_REFERENCE.is_file():
                    raise reference.ReferenceError(str(error)) from None
        return reference.load(TRAINING_REFERENCE)

    return load


def log_location(key: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Where a log is: its environment variable as it is (a path or a URL), else the path of
    configs/serving.yaml."""
    given = environ.get(serving.ENVIRONMENT[key])
    if given is not None:
        return given.strip() or None
    configured = getattr(serving.load_config(environ=environ), key)
    return str(configured) if configured else None


def run(
    config: MonitoringConfig,
    predictions_log: str,
    feedback_log: str | None,
    *,
    dispatcher: Dispatcher,
    tracker: issues.Tracker | None,
    profile_of: Callable[[str | None], dict[str, Any]],
    now: datetime | None = None,
) -> tuple[Check, int]:
    """Checks, acts on the decision, records it; returns the check and the exit status."""
    now = now or datetime.now(UTC)
    with tempfile.TemporaryDirectory() as directory:
        path = fetch(predictions_log, Path(directory))
        if not path.is_file():
            raise MonitoringError(f"no prediction log at {predictions_log}: serve traffic first")
        predictions = list(prediction_log.read(path))
        feedback = []
        if feedback_log:
            feedback = list(prediction_log.read(fetch(feedback_log, Path(directory))))
    fired = load_state(config.state)
    try:
        result = check(config, predictions, feedback, profile_of, fired, now)
    except reference.ReferenceError as error:
        raise MonitoringError(str(error)) from None
    status = EXIT_OK
    if result.decision.fire:
        try:
            dispatched = dispatcher.dispatch(
                f"the retraining policy fired for version {result.model_version}: "
                f"{result.decision.reason}"
            )
        except ApiError as error:
            dispatched = f"could not dispatch training: {error}"
            status = EXIT_FAILED
        print(f"retrain: {dispatched}")
        try:
            issues.submit(fired_report(result, dispatched), tracker)
        except ApiError as error:
            print(f"error: the issue could not be filed: {error}", file=sys.stderr)
            status = EXIT_FAILED
        fired.append(now)
    save_state(config.state, fired, now, config.policy.cooldown)
    config.reports.mkdir(parents=True, exist_ok=True)
    (config.reports / "report.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    (config.reports / "report.md").write_text(result.to_markdown())
    return result, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Monitor the champion in production; retrain when the policy fires."
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="monitoring.yaml")
    parser.add_argument("--predictions", help="prediction log: a path or URL (PREDICTION_LOG)")
    parser.add_argument("--feedback", help="feedback log: a path or URL (FEEDBACK_LOG)")
    parser.add_argument(
        "--dispatch", choices=DISPATCHERS, help="override `retrain.dispatch` of the configuration"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.dispatch:
            config = replace(config, dispatch=args.dispatch)
        predictions_log = args.predictions or log_location("prediction_log")
        feedback_log = args.feedback or log_location("feedback_log")
        if not predictions_log:
            raise MonitoringError("no prediction log is configured (PREDICTION_LOG)")
        client = provider.from_env()
        result, status = run(
            config,
            predictions_log,
            feedback_log,
            dispatcher=dispatcher_for(config, client),
            tracker=provider.tracker_from_env(),
            profile_of=reference_loader(config),
        )
    except (MonitoringError, serving.ServingConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    print(result.to_markdown(), end="")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
