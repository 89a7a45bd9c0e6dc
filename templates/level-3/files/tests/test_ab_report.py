"""The A/B report: per-variant metrics from a prediction log joined with its labels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ package_name }}.ab_report import build, compare, main
from {{ package_name }}.prediction_log import FeedbackLog, PredictionLog, read


def log_traffic(
    predictions: PredictionLog,
    feedback: FeedbackLog,
    variant: str,
    version: str,
    outcomes: list[tuple[float, float]],
    key: str = "user",
) -> None:
    """Logs one prediction per (prediction, label) and its label."""
    for prediction, label in outcomes:
        ids = predictions.record(
            key=key,
            variant=variant,
            model_version=version,
            model_sha256="0" * 64,
            rows=[{"x": 1.0}],
{%- if is_classification %}
            predictions=[int(prediction)],
            probabilities=[0.9 if prediction else 0.1],
{%- else %}
            predictions=[prediction],
{%- endif %}
            latency_ms=5.0,
        )
        feedback.record([(ids[0], label)])


@pytest.fixture
def logs(tmp_path: Path) -> tuple[PredictionLog, FeedbackLog]:
    return PredictionLog(tmp_path / "predictions.jsonl"), FeedbackLog(tmp_path / "feedback.jsonl")


def logged(tmp_path: Path, name: str) -> list[dict[str, Any]]:
    return list(read(tmp_path / f"{name}.jsonl"))
{%- if is_classification %}


def test_per_variant_metrics_and_a_clear_winner(
    logs: tuple[PredictionLog, FeedbackLog], tmp_path: Path
) -> None:
    predictions, feedback = logs
    # The champion is right 60 times in 100, the challenger 95.
    log_traffic(predictions, feedback, "champion", "1", [(1, 1)] * 60 + [(1, 0)] * 40)
    log_traffic(predictions, feedback, "challenger", "2", [(1, 1)] * 95 + [(0, 1)] * 5)
    log_traffic(predictions, feedback, "challenger", "2", [(0, 0)] * 7, key="synthetic:test")

    report = build(logged(tmp_path, "predictions"), logged(tmp_path, "feedback"))

    champion, challenger = report.variants
    assert (champion.variant, champion.model_version, champion.labelled) == ("champion", "1", 100)
    assert champion.metrics["accuracy"] == pytest.approx(0.6)
    assert challenger.metrics["accuracy"] == pytest.approx(0.95)
    # Every label of the challenger is 1: ROC AUC needs both classes.
    assert champion.metrics["roc_auc"] == pytest.approx(0.5)
    assert "roc_auc" not in challenger.metrics
    assert report.synthetic == 7 and report.predictions == 200
    assert report.comparison.difference == pytest.approx(0.35)
    assert report.comparison.better == "challenger"


def outcomes(rate: float, labelled: int) -> pd.Series:
    """Whether each of `labelled` predictions was right, right for a share `rate` of them."""
    right = round(rate * labelled)
    return pd.Series([1.0] * right + [0.0] * (labelled - right))


def test_a_small_difference_is_decided_only_with_enough_labels() -> None:
    """Right 80% of the time against 85%. With 100 labels each, the difference 0.05 has a
    standard error of sqrt((0.8 * 0.2 + 0.85 * 0.15) / 99) = 0.0539: its 95% interval,
    0.05 +- 1.96 * 0.0539, spans zero. With 2000 each the error is 0.0120, and it does not."""
    few = compare(outcomes(0.80, 100), outcomes(0.85, 100))
    assert (few.metric, few.champion, few.challenger) == ("accuracy", 0.8, 0.85)
    assert few.difference == pytest.approx(0.05)
    assert few.ci95 == pytest.approx((-0.0556, 0.1556), abs=1e-4)
    assert few.better == "undecided"

    many = compare(outcomes(0.80, 2000), outcomes(0.85, 2000))
    assert many.ci95 == pytest.approx((0.0265, 0.0735), abs=1e-4)
    assert many.better == "challenger"
    assert compare(outcomes(0.85, 2000), outcomes(0.80, 2000)).better == "champion"
    assert compare(outcomes(0.80, 2000), outcomes(0.80, 2000)).better == "undecided"
{%- else %}


def test_per_variant_metrics_and_a_clear_winner(
    logs: tuple[PredictionLog, FeedbackLog], tmp_path: Path
) -> None:
    predictions, feedback = logs
    # The champion is 20 off on every prediction, the challenger 5.
    off_by_20 = [(100.0 + 20 * (-1) ** i, 100.0) for i in range(100)]
    off_by_5_or_so = [(100.0 + 5 * (-1) ** i, 100.0 + i % 3) for i in range(100)]
    log_traffic(predictions, feedback, "champion", "1", off_by_20)
    log_traffic(predictions, feedback, "challenger", "2", off_by_5_or_so)
    log_traffic(predictions, feedback, "challenger", "2", [(0.0, 100.0)] * 7, key="synthetic:test")

    report = build(logged(tmp_path, "predictions"), logged(tmp_path, "feedback"))

    champion, challenger = report.variants
    assert (champion.variant, champion.model_version, champion.labelled) == ("champion", "1", 100)
    assert champion.metrics["mae"] == pytest.approx(20.0)
    assert champion.metrics["rmse"] == pytest.approx(20.0)
    assert challenger.metrics["mae"] < 7
    assert report.synthetic == 7 and report.predictions == 200
    assert report.comparison.metric == "mae"
    assert report.comparison.difference < -13
    assert report.comparison.better == "challenger"


def absolute_errors(larger: float, labelled: int) -> pd.Series:
    """Errors of 0 and `larger` in turn: a mean of `larger` / 2 and a wide spread."""
    return pd.Series([0.0, larger] * (labelled // 2))


def test_a_small_difference_is_decided_only_with_enough_labels() -> None:
    """A mean absolute error of 10 against 9 (errors 0 and 20 in turn, against 0 and 18). With
    100 labels each, the difference -1 has a standard error of sqrt((100 + 81) / 99) = 1.352: its
    95% interval, -1 +- 1.96 * 1.352, spans zero. With 2000 each the error is 0.301, and it does
    not; a lower error is better."""
    few = compare(absolute_errors(20, 100), absolute_errors(18, 100))
    assert (few.metric, few.champion, few.challenger) == ("mae", 10.0, 9.0)
    assert few.difference == pytest.approx(-1.0)
    assert few.ci95 == pytest.approx((-3.6501, 1.6501), abs=1e-4)
    assert few.better == "undecided"

    many = compare(absolute_errors(20, 2000), absolute_errors(18, 2000))
    assert many.ci95 == pytest.approx((-1.5898, -0.4102), abs=1e-4)
    assert many.better == "challenger"
    assert compare(absolute_errors(18, 2000), absolute_errors(20, 2000)).better == "champion"
    assert compare(absolute_errors(20, 2000), absolute_errors(20, 2000)).better == "undecided"
{%- endif %}


def test_the_latest_label_counts_and_unmatched_labels_are_counted(
    logs: tuple[PredictionLog, FeedbackLog], tmp_path: Path
) -> None:
    predictions, feedback = logs
    log_traffic(predictions, feedback, "champion", "1", [(1, 0)])
    first_id = logged(tmp_path, "predictions")[0]["prediction_id"]
    feedback.record([(first_id, 1), ("no-such-prediction", 1)])

    report = build(logged(tmp_path, "predictions"), logged(tmp_path, "feedback"))

    (champion,) = report.variants
    assert champion.labelled == 1
    assert champion.metrics["{% if is_classification %}accuracy{% else %}mae{% endif %}"] == pytest.approx({% if is_classification %}1.0{% else %}0.0{% endif %})
    assert report.unmatched_labels == 1
    assert report.comparison is None


def test_without_labels_there_are_no_metrics_yet(
    logs: tuple[PredictionLog, FeedbackLog], tmp_path: Path
) -> None:
    predictions, _ = logs
    predictions.record(
        key="user",
        variant="challenger",
        model_version="2",
        model_sha256="0" * 64,
        rows=[{"x": 1.0}],
        predictions=[1{% if not is_classification %}.0{% endif %}],
{%- if is_classification %}
        probabilities=[0.7],
{%- endif %}
        latency_ms=3.0,
    )
    (challenger,) = build(logged(tmp_path, "predictions"), []).variants
    assert (challenger.predictions, challenger.labelled, challenger.metrics) == (1, 0, {})


def test_the_command_writes_the_report_or_says_there_is_no_log(
    logs: tuple[PredictionLog, FeedbackLog], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [
        "--predictions",
        str(tmp_path / "predictions.jsonl"),
        "--feedback",
        str(tmp_path / "feedback.jsonl"),
        "--output",
        str(tmp_path / "ab"),
    ]
    assert main(arguments) == 2
    assert "no prediction log" in capsys.readouterr().err

    predictions, feedback = logs
    log_traffic(predictions, feedback, "champion", "1", [(1, 1)] * 3)
    log_traffic(predictions, feedback, "challenger", "2", [(1, 1)] * 3)
    assert main(arguments) == 0
    report = json.loads((tmp_path / "ab" / "report.json").read_text())
    assert [v["variant"] for v in report["variants"]] == ["champion", "challenger"]
    assert "| champion | 1 | 3 | 3 |" in (tmp_path / "ab" / "report.md").read_text()
    assert "A/B report" in capsys.readouterr().out
