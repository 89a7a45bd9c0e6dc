"""The evaluation gate: the rule on its own, then real candidates against a real champion."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ package_name }} import registry
from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.ingest import IngestConfig
from {{ package_name }}.gate import (
    HIGHER_IS_BETTER,
    GateConfig,
    GateError,
    Threshold,
    decide,
    load_config,
    main,
    run,
)
from {{ package_name }}.pipeline import TrainingResult

Train = Callable[..., TrainingResult]
SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "gates.yaml"
{%- if is_classification %}
METRICS = {"accuracy": 0.95, "f1": 0.96, "roc_auc": 0.99}
{%- else %}
METRICS = {"r2": 0.45, "rmse": 54.0, "mae": 43.0}
{%- endif %}
UP = next(metric for metric, higher in HIGHER_IS_BETTER.items() if higher)


def test_a_min_threshold_includes_its_limit() -> None:
    config = GateConfig([Threshold(UP, "min", 0.5)], UP)
    assert decide(config, "1", {**METRICS, UP: 0.5}).passed
    rejected = decide(config, "1", {**METRICS, UP: 0.49})
    assert not rejected.passed
    assert rejected.checks[0].name == f"{UP} >= 0.5"


def test_a_max_threshold_includes_its_limit() -> None:
    config = GateConfig([Threshold(UP, "max", 0.9)], UP)
    assert decide(config, "1", {**METRICS, UP: 0.9}).passed
    assert not decide(config, "1", {**METRICS, UP: 0.91}).passed


@pytest.mark.parametrize("metric", sorted(HIGHER_IS_BETTER))
def test_the_champion_must_be_beaten_whichever_way_the_metric_points(metric: str) -> None:
    step = 0.01 if HIGHER_IS_BETTER[metric] else -0.01
    champion = dict(METRICS)
    better = {**METRICS, metric: METRICS[metric] + step}
    worse = {**METRICS, metric: METRICS[metric] - step}

    config = GateConfig([], metric, min_improvement=0.005)
    assert decide(config, "2", better, "1", champion).passed
    assert not decide(config, "2", worse, "1", champion).passed
    assert not decide(config, "2", champion, "1", champion).passed
    assert decide(GateConfig([], metric), "2", champion, "1", champion).passed


def test_without_a_champion_only_the_thresholds_apply() -> None:
    config = GateConfig([Threshold(UP, "min", 0.0)], UP, min_improvement=1.0)
    result = decide(config, "1", METRICS)
    assert result.passed
    assert len(result.checks) == 1
    assert result.notes == ["no champion yet: only the thresholds apply"]
    assert decide(config, "3", METRICS, "3").notes[0].startswith("version 3 is the champion")


def test_the_shipped_gate_loads() -> None:
    config = load_config(SHIPPED)
    assert config.thresholds
    assert config.champion_metric in HIGHER_IS_BETTER
    assert config.min_improvement >= 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("thresholds:\n  speed: {min: 1}\n", "unknown metric"),
        (f"thresholds:\n  {UP}:\n    least: 1\n", "must set `min`, `max` or both"),
        (f"thresholds:\n  {UP}:\n    min: high\n", "must be a number"),
        ("champion:\n  metric: speed\n", "unknown metric 'speed'"),
        ("champion:\n  min_improvement: lots\n", "must be a number"),
        ("gates: []\n", "expected the keys"),
    ],
)
def test_a_bad_gate_configuration_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text(text)
    with pytest.raises(GateError, match=message):
        load_config(path)


def test_the_default_model_passes_the_shipped_gate(
    trained_tracking_uri: str, tmp_path: Path
) -> None:
    result = run(load_config(SHIPPED), reports=tmp_path / "reports")

    assert result.passed, result.summary()
    assert result.version == "1"
    version = registry.get_version(MlflowClient(trained_tracking_uri), "1")
    assert version.tags[registry.GATE_TAG] == registry.PASSED
    assert "ok" in version.tags["gate.summary"]
    report = json.loads((tmp_path / "reports" / "gate.json").read_text())
    assert report["passed"] is True
    assert report["metrics"] == result.metrics
    assert "Gate passed" in (tmp_path / "reports" / "gate.md").read_text()


def test_a_better_candidate_is_accepted(
    train_candidate: Train, tracking_uri: str, worse_config: TrainConfig, tmp_path: Path
) -> None:
    client = MlflowClient(tracking_uri)
    weak = train_candidate(worse_config)
    registry.set_alias(client, registry.CHAMPION, weak.version)
    strong = train_candidate()

    result = run(load_config(SHIPPED), reports=tmp_path)

    assert result.version == strong.version
    assert result.champion_version == weak.version
    assert result.passed, result.summary()
    assert "beats champion" in result.checks[-1].name
    assert registry.get_version(client, strong.version).tags[registry.GATE_TAG] == registry.PASSED


def test_a_worse_candidate_is_rejected(
    train_candidate: Train, tracking_uri: str, worse_config: TrainConfig, tmp_path: Path
) -> None:
    client = MlflowClient(tracking_uri)
    arguments = ["--config", str(SHIPPED), "--reports", str(tmp_path)]
    good = train_candidate()
    assert main(arguments) == 0
    registry.promote(client, good.version)
    worse = train_candidate(worse_config)

    assert main(arguments) == 1

    assert registry.get_version(client, worse.version).tags[registry.GATE_TAG] == registry.FAILED
    assert client.get_run(worse.run_id).data.tags[registry.GATE_TAG] == registry.FAILED
    # Even with no threshold at all, the comparison with the champion rejects it.
    shipped = load_config(SHIPPED)
    only_champion = GateConfig([], shipped.champion_metric, shipped.min_improvement)
    result = run(only_champion, reports=None)
    assert not result.passed
    assert [check.passed for check in result.checks] == [False]
    assert registry.version_by_alias(client, registry.CHAMPION).version == good.version


def test_a_champion_that_cannot_score_a_changed_schema_stops_the_gate(
    train_candidate: Train,
    tracking_uri: str,
    train_config: TrainConfig,
    dataset: pd.DataFrame,
    tmp_path: Path,
) -> None:
    registry.set_alias(MlflowClient(tracking_uri), registry.CHAMPION, train_candidate().version)
    dropped = next(iter(train_config.features))
    source = tmp_path / "narrower.csv"
    dataset.drop(columns=[dropped]).to_csv(source, index=False)
    features = {name: kind for name, kind in train_config.features.items() if name != dropped}
    train_candidate(
        replace(train_config, features=features),
        IngestConfig(source=str(source), output=tmp_path / "narrower" / "dataset.csv"),
    )

    with pytest.raises(GateError, match="cannot score the candidate's test set"):
        run(load_config(SHIPPED), reports=None)


def test_without_a_candidate_the_gate_cannot_run(
    tracking_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(SHIPPED), "--reports", str(tmp_path)]) == 2
    assert "run `make train` first" in capsys.readouterr().err
    assert main(["--config", str(SHIPPED), "--version", "7"]) == 2
