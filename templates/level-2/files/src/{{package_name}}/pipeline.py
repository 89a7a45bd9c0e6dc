"""The training pipeline: `python -m {{ package_name }}.pipeline` (`make train`).

Six stages, one function each: ingest (the step of `make ingest`, configs/ingest.yaml), validate
(the schema in configs/train.yaml), split, fit (the model of `train.build_model`, the one place
that builds it, from the `estimator` of configs/train.yaml), evaluate and register. Bad data
stops the pipeline at validation, before anything is tracked or registered. Otherwise the run
records in MLflow the configuration, the data's SHA-256, the git commit and the machine, with the
test metrics; the model is logged with its signature and registered as a new version of
`{{ package_name }}` with the alias `candidate`. The held-out test set is
logged too, so that the gate (`make evaluate`) scores the candidate and the champion on the same
rows.

The model is also written to `models/model.joblib`, the file the application serves by default;
its SHA-256 is a tag of the registered version, so a served file leads back to its run.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib
import mlflow
import mlflow.sklearn
import pandas as pd
import skops.io
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from . import compute, {% block modules_before_registry %}{% endblock %}registry, search, tracking{% block modules_after_tracking %}{% endblock %}
from .config import DEFAULT_CONFIG, ConfigError, TrainConfig, load_config, to_yaml
from .data.ingest import DEFAULT_CONFIG as DEFAULT_INGEST_CONFIG
from .data.ingest import TARGET, IngestConfig, ingest
from .data.ingest import load_config as load_ingest_config
from .data.validate import DataValidationError, Schema, check
from .train import build_model, evaluate

MODEL_FILE = Path("models/model.joblib")
REPORTS = Path("reports/training")
TEST_SET_ARTIFACT = "evaluation/test.csv"
MODEL_ARTIFACT = "model"


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    test: pd.DataFrame


@dataclass(frozen=True)
class TrainingResult:
    run_id: str
    version: str
    metrics: dict[str, float]
    data_sha256: str
{%- block training_result_fields %}{% endblock %}


def sample(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """A reproducible random share of the rows; all of them when `fraction` is 1."""
    if fraction >= 1:
        return frame
    return frame.sample(frac=fraction, random_state=seed).reset_index(drop=True)


def split(frame: pd.DataFrame, config: TrainConfig) -> Split:
    """Train and test rows{% if is_classification %}, stratified by the target{% endif %}."""
    train, test = train_test_split(
        frame,
        test_size=config.test_size,
        random_state=config.seed,
{%- if is_classification %}
        stratify=frame[TARGET],
{%- endif %}
    )
    return Split(train.reset_index(drop=True), test.reset_index(drop=True))


def features_and_target(frame: pd.DataFrame, config: TrainConfig) -> tuple[pd.DataFrame, pd.Series]:
    """The feature columns, in the configured order, and the target."""
    return frame[list(config.features)], frame[TARGET]


def fit(config: TrainConfig, data: Split) -> Pipeline:
    """The configured model, built where every way of training builds it, fitted."""
    features, target = features_and_target(data.train, config)
    return build_model(config.seed, config.estimator).fit(features, target)


def log_model(model: Pipeline, features: pd.DataFrame) -> ModelInfo:
    """Logs the model in MLflow's scikit-learn format (skops, which loads without pickle), with
    its signature, an input example and pinned requirements (inferring them would take seconds)."""
    example = features.head(5)
    with warnings.catch_warnings():
        # MLflow hints that integer columns cannot hold missing values: the integer column here is
        # the model's output, which never misses.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(example, model.predict(example))
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    return mlflow.sklearn.log_model(
        model,
        name=MODEL_ARTIFACT,
        signature=signature,
        input_example=example,
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
        skops_trusted_types=trusted or None,
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(
    config: TrainConfig,
    ingest_config: IngestConfig,
    *,
    tracking_uri: str | None = None,
    model_file: Path | None = MODEL_FILE,
    reports: Path | None = REPORTS,
) -> TrainingResult:
    """Runs every stage and returns what was registered; raises `DataValidationError` on bad data
    and `ConfigError` on a configuration that cannot train."""
{%- block before_ingest %}{% endblock %}
    gathered = ingest(ingest_config)
    data_sha256 = gathered.metadata["sha256"]
    frame = pd.read_csv(gathered.path)
    print(f"ingest: {gathered.path}, {len(frame)} rows, sha256 {data_sha256[:12]}")

    check(frame, Schema.of(config))
    print(f"validate: the data matches the schema ({len(config.features)} features and target)")

    frame = sample(frame, config.sample_fraction, config.seed)
    data = split(frame, config)
    print(f"split: {len(data.train)} rows to train, {len(data.test)} to test (seed {config.seed})")
{%- block after_split %}{% endblock %}

    client = tracking.configure(tracking_uri)
    experiment = tracking.experiment_id(client)
    with mlflow.start_run(experiment_id=experiment) as active:
        run_id = active.info.run_id
        config = search.tune(config, data.train, experiment)
        mlflow.log_params(config.as_params())
        tags = {
            "data.sha256": data_sha256,
            "data.source": str(gathered.metadata["source"]),
            "data.rows": str(len(frame)),
            **tracking.git_tags(),
        }
        mlflow.set_tags({**tags, **compute.describe()})
        mlflow.log_text(to_yaml(config), "config/train.yaml")
{%- block after_config %}{% endblock %}

        model = fit(config, data)
        print(f"fit: {config.estimator.class_path}")

        test_features, test_target = features_and_target(data.test, config)
        metrics = evaluate(model, test_features, test_target)
        mlflow.log_metrics(metrics)
        print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
{%- block after_evaluate %}{% endblock %}

        with tempfile.TemporaryDirectory() as directory:
            test_path = Path(directory) / Path(TEST_SET_ARTIFACT).name
            data.test.to_csv(test_path, index=False)
            mlflow.log_artifact(str(test_path), Path(TEST_SET_ARTIFACT).parent.as_posix())
{%- block log_test_sets %}{% endblock %}
        logged = log_model(model, test_features)

        if model_file is not None:
            model_file.parent.mkdir(parents=True, exist_ok=True)
            joblib.dump(model, model_file)
            tags["model_file.sha256"] = file_sha256(model_file)
        version = registry.register(
            client, logged.model_uri, run_id=run_id, tags=tags, model_id=logged.model_id
        )
        mlflow.set_tag("registered_version", version.version)
{%- block after_register %}{% endblock %}
    print(
        f"register: `{registry.MODEL_NAME}` version {version.version} is the "
        f"`{registry.CANDIDATE}` (run {run_id})"
    )
{% block result %}
    result = TrainingResult(run_id, version.version, metrics, data_sha256)
{%- endblock %}
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
{%- block save_reports %}{% endblock %}
        report = {"model": registry.MODEL_NAME, **asdict(result), "config": config.as_dict()}
        (reports / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train, evaluate and register a candidate model, tracked in MLflow."
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="train.yaml to use")
    parser.add_argument(
        "--ingest-config", type=Path, default=DEFAULT_INGEST_CONFIG, help="ingest.yaml to use"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value of the training configuration, such as sample_fraction=0.5",
    )
    parser.add_argument("--model-file", type=Path, default=MODEL_FILE, help="model file to write")
    parser.add_argument("--reports", type=Path, default=REPORTS, help="where to write metrics.json")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, args.overrides)
        run(
            config,
            load_ingest_config(args.ingest_config),
            model_file=args.model_file,
            reports=args.reports,
        )
    except (ConfigError, DataValidationError) as error:
        print(f"error: {error}", file=sys.stderr)
        print("error: the pipeline stopped; nothing was registered", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
