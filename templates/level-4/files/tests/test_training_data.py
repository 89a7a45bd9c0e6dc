"""What a retrain learns from: the snapshots in the window, the recent slice held out, the cap,
the lineage recorded per run, and that learning from shifted labelled rows is what helps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ package_name }} import gate, pipeline, snapshots, training_data
from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.ingest import TARGET
from {{ package_name }}.data.validate import Schema
from {{ package_name }}.train import evaluate

NOW = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_snapshots_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(training_data.SNAPSHOTS_ENV, raising=False)


@pytest.fixture
def config(train_config: TrainConfig, tmp_path: Path) -> TrainConfig:
    assert train_config.production is not None, "configs/train.yaml declares `production`"
    production = replace(train_config.production, snapshots=tmp_path / "snapshots")
    return replace(train_config, production=production)


@pytest.fixture
def reference(dataset: pd.DataFrame, config: TrainConfig) -> pipeline.Split:
    return pipeline.split(dataset, config)


def shifted(rows: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The demo's drift: a third of the features moved up by one and a half standard deviations,
    the labels as they were."""
    columns = features[: max(1, len(features) // 3)]
    moved = rows.copy()
    moved[columns] = moved[columns] + 1.5 * rows[columns].std()
    return moved


def production_rows(
    reference: pipeline.Split, config: TrainConfig, n_normal: int, n_shifted: int, start: int = 0
) -> pd.DataFrame:
    """Labelled production traffic from the reference training rows: normal, then shifted."""
    features = list(config.features)
    normal = reference.train.sample(n_normal, replace=True, random_state=start)
    moved = shifted(
        reference.train.sample(n_shifted, replace=True, random_state=start + 1), features
    )
    rows = pd.concat([normal, moved], ignore_index=True)
    begin = datetime(2025, 2, 1, tzinfo=UTC)
    return rows.assign(
        prediction_id=[f"p{start + index:05d}" for index in range(len(rows))],
        timestamp=[
            (begin + timedelta(seconds=start + index)).isoformat() for index in range(len(rows))
        ],
    )


def collected(rows: pd.DataFrame, config: TrainConfig, when: datetime = NOW) -> snapshots.Snapshot:
    assert config.production is not None
    written = snapshots.write(rows, Schema.of(config), root=config.production.snapshots, now=when)
    return written.snapshot


def test_without_snapshots_the_reference_data_alone(
    config: TrainConfig, reference: pipeline.Split
) -> None:
    production = training_data.gather(config, reference.train, reference.test, NOW)
    assert production.train.empty and production.recent.empty and production.snapshot_ids == []
    assert training_data.training_rows(reference.train, production) is reference.train


def test_the_recent_rows_are_held_out_and_the_rest_capped(
    config: TrainConfig, reference: pipeline.Split
) -> None:
    rows = production_rows(reference, config, 300, 700)
    snapshot = collected(rows, config)
    production = training_data.gather(config, reference.train, reference.test, NOW)

    settings = config.production
    assert production.snapshot_ids == [snapshot.id]
    assert len(production.recent) == int(len(rows) * settings.recent_share)
    latest = rows.sort_values("timestamp").tail(len(production.recent))
    assert set(production.recent.prediction_id) == set(latest.prediction_id)
    cap = int(settings.max_share / (1 - settings.max_share) * len(reference.train))
    assert 0 < len(production.train) <= cap
    share = len(production.train) / (len(production.train) + len(reference.train))
    assert share <= settings.max_share
    # What the gate scores on is never trained on, not even the same input seen earlier.
    features = list(config.features)
    trained = set(training_data.row_keys(production.train, features))
    assert trained.isdisjoint(training_data.row_keys(production.recent, features))
    assert trained.isdisjoint(training_data.row_keys(reference.test, features))
    lineage = production.lineage
    assert lineage["snapshots"][0]["digest"] == snapshot.digest
    assert lineage["rows_trained"] == len(production.train)
    assert lineage["snapshots"][0]["rows_recent"] == len(production.recent)


def test_only_snapshots_in_the_window_that_pass_verification_count(
    config: TrainConfig, reference: pipeline.Split, capsys: pytest.CaptureFixture[str]
) -> None:
    old = collected(
        production_rows(reference, config, 200, 0, start=0), config, NOW - timedelta(days=90)
    )
    good = collected(production_rows(reference, config, 200, 0, start=1000), config)
    bad = collected(production_rows(reference, config, 200, 0, start=2000), config)
    part = bad.path / bad.manifest["partitions"][0]["path"]
    part.chmod(0o644)
    part.write_bytes(part.read_bytes() + b"tampered")

    production = training_data.gather(config, reference.train, reference.test, NOW)
    assert production.snapshot_ids == [good.id]
    assert old.id not in production.lineage["snapshots"]
    assert [rejected["id"] for rejected in production.lineage["rejected"]] == [bad.id]
    assert f"snapshot {bad.id} left out" in capsys.readouterr().out
    assert set(production.recent.prediction_id) | set(production.train.prediction_id) <= set(
        good.manifest["prediction_ids"]
    )


def test_too_few_production_rows_leave_the_reference_data_alone(
    config: TrainConfig, reference: pipeline.Split
) -> None:
    assert config.production is not None
    collected(production_rows(reference, config, config.production.min_rows - 1, 0), config)
    production = training_data.gather(config, reference.train, reference.test, NOW)
    assert production.train.empty and production.snapshot_ids == []


def test_the_issue_names_the_snapshots_a_retrain_would_use(
    config: TrainConfig, reference: pipeline.Split, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = collected(production_rows(reference, config, 200, 0), config, datetime.now(UTC))
    monkeypatch.setenv(training_data.SNAPSHOTS_ENV, str(snapshot.path.parent))
    text = training_data.planned()
    assert f"`{snapshot.id}` (200 rows, sha256 {snapshot.digest})" in text
    monkeypatch.setenv(training_data.SNAPSHOTS_ENV, str(tmp_path / "empty"))
    assert training_data.planned().startswith("the reference data alone")


def scores(model, frame: pd.DataFrame, config: TrainConfig) -> dict[str, float]:
    return evaluate(model, frame[list(config.features)], frame[TARGET])


def test_shifted_labelled_rows_fix_the_recent_window_where_the_reference_alone_does_not(
    config: TrainConfig, reference: pipeline.Split
) -> None:
    collected(production_rows(reference, config, 400, 800), config)
    production = training_data.gather(config, reference.train, reference.test, NOW)
    champion = pipeline.fit(config, reference)
    retrained = pipeline.fit(
        config,
        pipeline.Split(training_data.training_rows(reference.train, production), reference.test),
    )
    # A retrain on the reference data alone, however often, is the champion again.
    reference_only = pipeline.fit(config, reference)

    rule = gate.load_config()
    assert rule.recent is not None

    def verdict(model) -> gate.GateResult:
        return gate.decide(
            rule,
            "2",
            scores(model, reference.test, config),
            "1",
            scores(champion, reference.test, config),
            scores(model, production.recent, config),
            scores(champion, production.recent, config),
        )

    learnt, unchanged = verdict(retrained), verdict(reference_only)
    metric = rule.recent.metric
    gain = gate.improvement(
        metric, learnt.recent_metrics[metric], learnt.champion_recent_metrics[metric]
    )
    assert gain >= rule.recent.min_improvement, learnt.summary()
    assert learnt.passed, learnt.summary()
    assert unchanged.recent_metrics == pytest.approx(unchanged.champion_recent_metrics)
    assert not unchanged.passed, unchanged.summary()


def test_a_run_records_the_snapshots_it_used(
    config: TrainConfig,
    reference: pipeline.Split,
    train_candidate: Callable[..., pipeline.TrainingResult],
    tracking_uri: str,
) -> None:
    snapshot = collected(production_rows(reference, config, 200, 300), config, datetime.now(UTC))
    result = train_candidate(config)

    client = MlflowClient(tracking_uri)
    run = client.get_run(result.run_id)
    assert result.snapshots == [snapshot.id]
    assert run.data.tags[training_data.SNAPSHOTS_TAG] == snapshot.id
    version = client.get_model_version(pipeline.registry.MODEL_NAME, result.version)
    assert version.tags[training_data.SNAPSHOTS_TAG] == snapshot.id
    lineage = mlflow.artifacts.load_dict(f"runs:/{result.run_id}/{training_data.LINEAGE_ARTIFACT}")
    assert lineage["snapshots"][0]["id"] == snapshot.id
    assert lineage["snapshots"][0]["digest"] == snapshot.digest
    assert lineage["reference"]["sha256"] == result.data_sha256
    recent = training_data.load_recent_set(result.run_id)
    assert recent is not None and len(recent) == lineage["rows_recent"] > 0
    assert result.recent_metrics is not None
    assert {f"recent.{name}" for name in result.recent_metrics} <= set(run.data.metrics)
