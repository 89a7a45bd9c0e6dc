"""Compare the models in production: `make ab-report`.

The same as `python -m {{ package_name }}.ab_report`.

Reads the prediction log and the labels that arrived through `POST /feedback` (the paths of
configs/serving.yaml; for one prediction, the latest label counts), leaves out synthetic traffic
such as the release tests', and computes for each variant and model version the number of
predictions and labels, {% if is_classification %}accuracy, F1, ROC AUC and the share predicted positive{% else %}RMSE, MAE, R² and the mean prediction{% endif %}, and the latency.
When both variants have labels, it gives the challenger's difference from the champion on
{% if is_classification %}accuracy{% else %}the mean absolute error{% endif %} with a 95% confidence interval (normal approximation), and
names the better one only when the interval excludes zero.

It writes reports/ab/report.json and report.md and prints the table. Exit status 0, or 2 when there
is no prediction log to read.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
{%- if is_classification %}
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
{%- else %}
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
{%- endif %}

from . import prediction_log, serving

REPORTS = Path("reports/ab")
Z_95 = 1.959964
{%- if is_classification %}
PRIMARY = "accuracy"
HIGHER_IS_BETTER = True
{%- else %}
PRIMARY = "mae"
HIGHER_IS_BETTER = False
{%- endif %}


@dataclass(frozen=True)
class VariantReport:
    variant: str
    model_version: str | None
    predictions: int
    labelled: int
    metrics: dict[str, float]
    latency_ms: dict[str, float]


@dataclass(frozen=True)
class Comparison:
    metric: str
    champion: float
    challenger: float
    difference: float
    ci95: tuple[float, float]
    better: str


@dataclass(frozen=True)
class Report:
    predictions: int
    labelled: int
    synthetic: int
    unmatched_labels: int
    variants: list[VariantReport] = field(default_factory=list)
    comparison: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_markdown(self) -> str:
        lines = [
            "## A/B report",
            "",
            f"{self.predictions} predictions, {self.labelled} labelled; {self.synthetic} "
            f"synthetic left out; {self.unmatched_labels} labels match no prediction.",
            "",
        ]
        names = sorted({name for variant in self.variants for name in variant.metrics})
        lines.append(
            "| variant | version | predictions | labelled | "
            + "".join(f"{name} | " for name in names)
            + "p50 ms | p95 ms |"
        )
        lines.append("|---" * (6 + len(names)) + "|")
        for variant in self.variants:
            values = "".join(
                f"{variant.metrics[name]:.4f} | " if name in variant.metrics else "- | "
                for name in names
            )
            lines.append(
                f"| {variant.variant} | {variant.model_version or '-'} | {variant.predictions} | "
                f"{variant.labelled} | {values}{variant.latency_ms['p50']:.1f} | "
                f"{variant.latency_ms['p95']:.1f} |"
            )
        if self.comparison is not None:
            c = self.comparison
            lines += [
                "",
                f"Challenger minus champion on {c.metric}: {c.difference:+.4f} "
                f"(95% CI {c.ci95[0]:+.4f} to {c.ci95[1]:+.4f}); better: {c.better}.",
            ]
        return "\n".join(lines) + "\n"


def labels_by_prediction(feedback: list[dict[str, Any]]) -> dict[str, float]:
    """The latest label of each prediction id."""
    labels: dict[str, float] = {}
    for record in sorted(feedback, key=lambda r: str(r.get("received_at", ""))):
        if "prediction_id" in record and "label" in record:
            labels[str(record["prediction_id"])] = record["label"]
    return labels


def metrics(truth: pd.Series, records: list[dict[str, Any]]) -> dict[str, float]:
    """The metrics of the labelled predictions of one variant; empty without labels."""
    if len(truth) == 0:
        return {}
    predicted = pd.Series([record["prediction"] for record in records], dtype=float)
{%- if is_classification %}
    found = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "f1": float(f1_score(truth, predicted, zero_division=0)),
        "positive_rate": float(predicted.mean()),
    }
    if len(set(truth.tolist())) == 2:
        probabilities = [record["probability"] for record in records]
        found["roc_auc"] = float(roc_auc_score(truth, probabilities))
    return found
{%- else %}
    found = {
        "rmse": float(root_mean_squared_error(truth, predicted)),
        "mae": float(mean_absolute_error(truth, predicted)),
        "mean_prediction": float(predicted.mean()),
    }
    if len(truth) >= 2 and float(truth.var()) > 0:
        found["r2"] = float(r2_score(truth, predicted))
    return found
{%- endif %}


def scores(truth: pd.Series, records: list[dict[str, Any]]) -> pd.Series:
    """The primary metric per labelled prediction: {% if is_classification %}1 when right, 0 when wrong{% else %}the absolute error{% endif %}."""
    predicted = pd.Series([record["prediction"] for record in records], dtype=float)
{%- if is_classification %}
    return (predicted == truth).astype(float)
{%- else %}
    return (predicted - truth).abs()
{%- endif %}


def compare(champion: pd.Series, challenger: pd.Series) -> Comparison | None:
    """Challenger minus champion on the primary metric, with a normal 95% interval."""
    if len(champion) < 2 or len(challenger) < 2:
        return None
    difference = float(challenger.mean() - champion.mean())
    spread = math.sqrt(
        champion.var(ddof=1) / len(champion) + challenger.var(ddof=1) / len(challenger)
    )
    low, high = difference - Z_95 * spread, difference + Z_95 * spread
    if low > 0 or high < 0:
        challenger_better = (difference > 0) == HIGHER_IS_BETTER
        better = serving.CHALLENGER if challenger_better else serving.CHAMPION
    else:
        better = "undecided"
    return Comparison(
        PRIMARY,
        float(champion.mean()),
        float(challenger.mean()),
        difference,
        (low, high),
        better,
    )


def display_order(group: tuple[str, str | None]) -> tuple[bool, str, int]:
    """The champion first, then the challenger; older versions first."""
    variant, version = group
    return variant != serving.CHAMPION, variant, int(version) if (version or "").isdigit() else -1


def build(predictions: list[dict[str, Any]], feedback: list[dict[str, Any]]) -> Report:
    """The report of a prediction log and its labels."""
    labels = labels_by_prediction(feedback)
    real = [record for record in predictions if not record.get("synthetic")]
    known_ids = {str(record["prediction_id"]) for record in predictions}
    groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for record in real:
        groups.setdefault((record["variant"], record.get("model_version")), []).append(record)
    variants, primary, latest = [], {}, {}
    for variant, version in sorted(groups, key=display_order):
        records = groups[(variant, version)]
        labelled = [record for record in records if record["prediction_id"] in labels]
        truth = pd.Series([labels[record["prediction_id"]] for record in labelled], dtype=float)
        latency = pd.Series([record["latency_ms"] for record in records], dtype=float)
        variants.append(
            VariantReport(
                variant,
                version,
                len(records),
                len(labelled),
                metrics(truth, labelled),
                {
                    "p50": float(latency.quantile(0.5)),
                    "p95": float(latency.quantile(0.95)),
                },
            )
        )
        # The comparison takes the most recent version of each variant.
        last_seen = max(record["timestamp"] for record in records)
        if variant not in latest or last_seen > latest[variant]:
            latest[variant] = last_seen
            primary[variant] = scores(truth, labelled)
    comparison = None
    if serving.CHAMPION in primary and serving.CHALLENGER in primary:
        comparison = compare(primary[serving.CHAMPION], primary[serving.CHALLENGER])
    return Report(
        predictions=len(real),
        labelled=sum(variant.labelled for variant in variants),
        synthetic=len(predictions) - len(real),
        unmatched_labels=len(set(labels) - known_ids),
        variants=variants,
        comparison=comparison,
    )


def main(argv: list[str] | None = None) -> int:
    config = serving.load_config()
    parser = argparse.ArgumentParser(description="Per-variant metrics from the prediction log.")
    parser.add_argument("--predictions", type=Path, default=config.prediction_log)
    parser.add_argument("--feedback", type=Path, default=config.feedback_log)
    parser.add_argument("--output", type=Path, default=REPORTS, help="where to write report.json")
    args = parser.parse_args(argv)
    if args.predictions is None or not args.predictions.is_file():
        message = f"no prediction log at {args.predictions}: serve some traffic first"
        print(f"error: {message}", file=sys.stderr)
        return 2
    feedback = list(prediction_log.read(args.feedback)) if args.feedback else []
    report = build(list(prediction_log.read(args.predictions)), feedback)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    markdown = report.to_markdown()
    (args.output / "report.md").write_text(markdown)
    print(markdown, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
