"""The evaluation gate: `python -m {{ package_name }}.gate` (`make evaluate`).

It scores the `candidate` (or a given version) on the test set its training run held out, checks
the absolute thresholds of configs/gates.yaml and, when a `champion` exists, scores the champion on
the same rows and requires the candidate to beat it by `min_improvement`. The verdict is recorded
on the model version (tag `gate`: `passed` or `failed`, see registry.py) and written to
reports/training/gate.json and gate.md; the exit status is 0 when the candidate passes, 1 when it
fails and 2 when it cannot be checked, so CI stops on a worse model.

`decide` is the rule itself, pure and unit-tested; `run` gathers what it needs from MLflow.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
import yaml

from . import registry, tracking{% block modules %}{% endblock %}
from .data.ingest import TARGET
from .pipeline import REPORTS, TEST_SET_ARTIFACT
from .train import evaluate

DEFAULT_CONFIG = Path("configs/gates.yaml")
# Whether a higher value of each metric `train.evaluate` reports is better.
HIGHER_IS_BETTER = {
{%- if is_classification %}
    "accuracy": True,
    "f1": True,
    "roc_auc": True,
{%- else %}
    "r2": True,
    "rmse": False,
    "mae": False,
{%- endif %}
}
EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class GateError(Exception):
    """The gate cannot check the candidate (no candidate, a bad configuration)."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    bound: str  # "min" or "max"
    value: float

    def holds(self, measured: float) -> bool:
        return measured >= self.value if self.bound == "min" else measured <= self.value

    def __str__(self) -> str:
        return f"{self.metric} {'>=' if self.bound == 'min' else '<='} {self.value:g}"
{%- block rules %}{% endblock %}


@dataclass(frozen=True)
class GateConfig:
    thresholds: list[Threshold]
    champion_metric: str
    min_improvement: float = 0.0
{%- block gate_config_fields %}{% endblock %}


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    @property
    def verdict(self) -> str:
        return "ok" if self.passed else "FAIL"


@dataclass(frozen=True)
class GateResult:
    version: str
    metrics: dict[str, float]
    checks: list[Check]
    champion_version: str | None = None
    champion_metrics: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)
{%- block gate_result_fields %}{% endblock %}

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def summary(self) -> str:
        return "; ".join(f"{c.verdict} {c.name} ({c.detail})" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": registry.MODEL_NAME,
            "version": self.version,
            "passed": self.passed,
            "metrics": self.metrics,
            "champion_version": self.champion_version,
            "champion_metrics": self.champion_metrics,
            "checks": [asdict(check) for check in self.checks],
            "notes": self.notes,
{%- block result_dict %}{% endblock %}
        }

    def to_markdown(self) -> str:
        verdict = "passed" if self.passed else "failed"
        lines = [
            f"## Gate {verdict}: `{registry.MODEL_NAME}` version {self.version}",
            "",
            "| check | result | detail |",
            "|---|---|---|",
            *(f"| {c.name} | {c.verdict} | {c.detail} |" for c in self.checks),
            "",
            "| metric | candidate | champion |",
            "|---|---|---|",
        ]
        for name, value in self.metrics.items():
            other = (self.champion_metrics or {}).get(name)
            lines.append(f"| {name} | {value:.4f} | {'-' if other is None else f'{other:.4f}'} |")
{%- block markdown_tables %}{% endblock %}
        lines.extend(["", *(f"- {note}" for note in self.notes)])
        return "\n".join(lines).rstrip() + "\n"


def load_config(path: Path = DEFAULT_CONFIG) -> GateConfig:
    """Reads the gate configuration; a metric the pipeline does not report is an error."""
    raw = yaml.safe_load(path.read_text()) or {}
    known = sorted(HIGHER_IS_BETTER)

    def fail(message: str) -> GateError:
        return GateError(f"{path}: {message}")

    if not isinstance(raw, dict) or set(raw) - {"thresholds", "champion"{% block config_keys %}{% endblock %}}:
        raise fail("expected the keys `thresholds` and `champion`")
    thresholds = []
    for metric, bounds in (raw.get("thresholds") or {}).items():
        if metric not in HIGHER_IS_BETTER:
            raise fail(f"`thresholds.{metric}`: unknown metric; known metrics are {known}")
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
            raise fail(f"`thresholds.{metric}` must set `min`, `max` or both")
        for bound, value in bounds.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(f"`thresholds.{metric}.{bound}` must be a number, not {value!r}")
            thresholds.append(Threshold(metric, bound, float(value)))
    champion = raw.get("champion") or {}
    if not isinstance(champion, dict) or set(champion) - {"metric", "min_improvement"}:
        raise fail("`champion` takes `metric` and `min_improvement`")
    metric = champion.get("metric", next(iter(HIGHER_IS_BETTER)))
    if metric not in HIGHER_IS_BETTER:
        raise fail(f"`champion.metric`: unknown metric {metric!r}; known metrics are {known}")
    improvement = champion.get("min_improvement", 0.0)
    if isinstance(improvement, bool) or not isinstance(improvement, int | float):
        raise fail(f"`champion.min_improvement` must be a number, not {improvement!r}")
    return GateConfig(thresholds, metric, float(improvement){% block config_arguments %}{% endblock %})


def improvement(metric: str, candidate: float, champion: float) -> float:
    """How much better the candidate is: positive is better, whichever way the metric points."""
    return candidate - champion if HIGHER_IS_BETTER[metric] else champion - candidate


def decide(
    config: GateConfig,
    version: str,
    metrics: dict[str, float],
    champion_version: str | None = None,
    champion_metrics: dict[str, float] | None = None,
{%- block decide_parameters %}{% endblock %}
) -> GateResult:
    """The verdict on a candidate's metrics, given the champion's on the same rows if any."""
    checks = []
    for threshold in config.thresholds:
        measured = metrics[threshold.metric]
        checks.append(Check(str(threshold), threshold.holds(measured), f"{measured:.4f}"))
    notes = []
    if champion_metrics is not None and champion_version is not None:
        metric = config.champion_metric
        gain = improvement(metric, metrics[metric], champion_metrics[metric])
{%- block champion_check %}
        checks.append(
            Check(
                f"{metric} beats champion v{champion_version} by >= {config.min_improvement:g}",
                gain >= config.min_improvement,
                f"{metrics[metric]:.4f} vs {champion_metrics[metric]:.4f}, {gain:+.4f}",
            )
        )
{%- endblock %}
    elif champion_version == version:
        notes.append(f"version {version} is the champion itself: only the thresholds apply")
    else:
        notes.append("no champion yet: only the thresholds apply")
{%- block decide_result %}
    return GateResult(version, metrics, checks, champion_version, champion_metrics, notes)
{%- endblock %}


def load_test_set(run_id: str) -> pd.DataFrame:
    """The test rows the candidate's training run held out and logged."""
    with tempfile.TemporaryDirectory() as directory:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=TEST_SET_ARTIFACT, dst_path=directory
        )
        return pd.read_csv(path)


def score(version: str, test: pd.DataFrame) -> dict[str, float]:
    model = mlflow.sklearn.load_model(registry.model_uri(version))
    features = list(model.feature_names_in_)
    return evaluate(model, test[features], test[TARGET])


def run(
    config: GateConfig,
    *,
    version: str | None = None,
    tracking_uri: str | None = None,
    reports: Path | None = REPORTS,
) -> GateResult:
    """Checks `version` (default: the candidate), records the verdict and writes the reports."""
    client = tracking.configure(tracking_uri)
    if version is None:
        candidate = registry.version_by_alias(client, registry.CANDIDATE)
        if candidate is None:
            raise GateError(f"no `{registry.CANDIDATE}` to check: run `make train` first")
    else:
        try:
            candidate = registry.get_version(client, version)
        except registry.RegistryError as error:
            raise GateError(str(error)) from None
    test = load_test_set(candidate.run_id)
    metrics = score(candidate.version, test)

    champion = registry.version_by_alias(client, registry.CHAMPION)
    champion_metrics = None
    if champion is not None and champion.version != candidate.version:
        try:
            champion_metrics = score(champion.version, test)
        except (KeyError, ValueError) as error:
            raise GateError(
                f"the champion (version {champion.version}) cannot score the candidate's test set "
                f"({error}); compare them by hand, then promote with --force if the change is meant"
            ) from None
{%- block score_slices %}{% endblock %}
    result = decide(
        config,
        candidate.version,
        metrics,
        None if champion is None else champion.version,
        champion_metrics,
{%- block decide_arguments %}{% endblock %}
    )

    registry.record_gate(client, candidate.version, result.passed, result.summary())
    verdict = registry.PASSED if result.passed else registry.FAILED
    client.set_tag(candidate.run_id, registry.GATE_TAG, verdict)
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "gate.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        (reports / "gate.md").write_text(result.to_markdown())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gate the candidate model: exit 1 if it fails.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="gate configuration")
    parser.add_argument("--version", help="the model version to check (default: the candidate)")
    parser.add_argument("--reports", type=Path, default=REPORTS, help="where to write gate.json")
    args = parser.parse_args(argv)
    try:
        result = run(load_config(args.config), version=args.version, reports=args.reports)
    except GateError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    for check in result.checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    for note in result.notes:
        print(f"note: {note}")
    verdict = "passed" if result.passed else "failed"
    print(f"gate {verdict}: `{registry.MODEL_NAME}` version {result.version}")
    return EXIT_PASSED if result.passed else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
