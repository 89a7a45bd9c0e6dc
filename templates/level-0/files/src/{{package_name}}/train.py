"""Train the model and save it as a single file.

{% block how_it_runs -%}
Run by hand (`make train`): it loads the data set bundled with scikit-learn, fits the model,
prints its metrics and writes `models/model.joblib`, the file that is handed over for deployment.
Nothing is tracked or versioned; see docs/maturity.md.
{%- endblock %}
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import argparse
{%- block imports_after_argparse %}{% endblock %}
from pathlib import Path

import joblib
import pandas as pd
{% block datasets_import -%}
{% if is_classification -%}
from sklearn.datasets import load_breast_cancer
{% else -%}
from sklearn.datasets import load_diabetes
{% endif -%}
{% endblock -%}
{% block estimator_import -%}
{% if is_classification -%}
from sklearn.linear_model import LogisticRegression
{% else -%}
from sklearn.linear_model import Ridge
{% endif -%}
{% endblock -%}
{% if is_classification -%}
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
{% else -%}
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
{% endif -%}
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
{% block package_imports %}{% endblock %}
MODEL_PATH = Path("models/model.joblib")
{% block target -%}
TARGET = "target"
{% endblock -%}
SEED = 42
TEST_SIZE = 0.2


def load_data() -> pd.DataFrame:
{%- block load_data %}
    """The data set bundled with scikit-learn: snake_case feature columns and `target`."""
{%- if is_classification %}
    frame = load_breast_cancer(as_frame=True).frame
{%- else %}
    frame = load_diabetes(as_frame=True, scaled=False).frame
{%- endif %}
    frame.columns = [str(column).strip().replace(" ", "_") for column in frame.columns]
    return frame
{%- endblock %}

{% block build_model %}
def build_model(seed: int = SEED) -> Pipeline:
    """Scaling then a linear model: fast, strong on this data, easy to inspect."""
{%- if is_classification %}
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
{%- else %}
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0, random_state=seed))
{%- endif %}
{%- endblock %}


def evaluate(model: Pipeline, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Held-out metrics of a fitted model."""
    predictions = model.predict(features)
{%- if is_classification %}
    probabilities = model.predict_proba(features)[:, 1]
    return {
        "accuracy": float(accuracy_score(target, predictions)),
        "f1": float(f1_score(target, predictions)),
        "roc_auc": float(roc_auc_score(target, probabilities)),
    }
{%- else %}
    return {
        "r2": float(r2_score(target, predictions)),
        "rmse": float(root_mean_squared_error(target, predictions)),
        "mae": float(mean_absolute_error(target, predictions)),
    }
{%- endif %}


def split(data: pd.DataFrame, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows to train on and the rows held out to evaluate{% if is_classification %}, both with the classes in the
    proportions of `data`{% endif %}."""
    train_rows, test_rows = train_test_split(
        data,
        test_size=TEST_SIZE,
        random_state=seed,
{%- if is_classification %}
        stratify=data[TARGET],
{%- endif %}
    )
    return train_rows, test_rows


def train(data: pd.DataFrame, model_path: Path = MODEL_PATH, seed: int = SEED) -> dict[str, float]:
    """Fits on a split of `data`, saves the model to `model_path` and returns the test metrics."""
    train_rows, test_rows = split(data, seed)
    model = build_model(seed).fit(train_rows.drop(columns=[TARGET]), train_rows[TARGET])
    metrics = evaluate(model, test_rows.drop(columns=[TARGET]), test_rows[TARGET])
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the model and save it as one file.")
    parser.add_argument("--output", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed of the split and model")
    args = parser.parse_args(argv)
    metrics = train(load_data(), args.output, args.seed)
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    print(f"model written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
