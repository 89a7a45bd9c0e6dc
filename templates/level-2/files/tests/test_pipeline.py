"""The training pipeline, run for real into a tracking store of each test's own."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import joblib
import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ package_name }} import registry, tracking, train
from {{ package_name }}.config import ConfigError, EstimatorConfig, TrainConfig, to_yaml
from {{ package_name }}.data.ingest import IngestConfig
from {{ package_name }}.data.validate import DataValidationError
from {{ package_name }}.pipeline import TEST_SET_ARTIFACT, TrainingResult, main

Train = Callable[..., TrainingResult]
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train.yaml"
METRICS = { {%- if is_classification %}"accuracy", "f1", "roc_auc"{% else %}"r2", "rmse", "mae"{% endif -%} }


def test_a_run_is_tracked_and_registered_as_the_candidate(
    train_candidate: Train, tracking_uri: str, tmp_path: Path, train_config: TrainConfig
) -> None:
    result = train_candidate()

    client = MlflowClient(tracking_uri)
    candidate = registry.version_by_alias(client, registry.CANDIDATE)
    assert candidate is not None
    assert candidate.version == result.version == "1"
    assert candidate.run_id == result.run_id

    tracked = client.get_run(result.run_id)
    assert tracked.data.params["estimator.class"] == train_config.estimator.class_path
    assert tracked.data.params["seed"] == str(train_config.seed)
    assert set(result.metrics) == METRICS
{%- block tracked_metrics %}
    assert tracked.data.metrics == pytest.approx(result.metrics)
{%- endblock %}
    metadata = json.loads((tmp_path / "raw" / "dataset.meta.json").read_text())
    assert tracked.data.tags["data.sha256"] == result.data_sha256 == metadata["sha256"]
    assert candidate.tags["data.sha256"] == result.data_sha256
    assert tracked.data.tags["git.commit"]
    assert tracked.data.tags["compute.runner"]

    info = mlflow.models.get_model_info(registry.model_uri(result.version))
    assert info.signature is not None
    assert info.signature.inputs.input_names() == list(train_config.features)

    model_file = tmp_path / "models" / "model.joblib"
    file_sha256 = hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert candidate.tags["model_file.sha256"] == file_sha256
    assert list(joblib.load(model_file).feature_names_in_) == list(train_config.features)
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path=TEST_SET_ARTIFACT, dst_path=str(tmp_path / "download")
    )
    assert len(pd.read_csv(downloaded)) == math.ceil(metadata["rows"] * train_config.test_size)
    report = json.loads((tmp_path / "reports" / "metrics.json").read_text())
    assert report["version"] == "1"
    assert report["metrics"] == result.metrics


def test_training_is_reproducible_and_each_run_is_a_new_version(
    train_candidate: Train, tracking_uri: str
) -> None:
    first = train_candidate()
    second = train_candidate()
    assert second.metrics == first.metrics
    assert (first.version, second.version) == ("1", "2")
    client = MlflowClient(tracking_uri)
    assert registry.version_by_alias(client, registry.CANDIDATE).version == "2"
    assert [version.version for version in registry.versions(client)] == ["1", "2"]


def test_a_sample_fraction_trains_on_fewer_rows(
    train_candidate: Train, tracking_uri: str, train_config: TrainConfig, dataset: pd.DataFrame
) -> None:
    result = train_candidate(replace(train_config, sample_fraction=0.5))
    tags = MlflowClient(tracking_uri).get_run(result.run_id).data.tags
    assert int(tags["data.rows"]) == round(len(dataset) * 0.5)


def test_bad_data_stops_the_pipeline_before_anything_is_tracked(
    train_candidate: Train, tracking_uri: str, tmp_path: Path, dataset: pd.DataFrame
) -> None:
    source = tmp_path / "upstream.csv"
    first = dataset.columns[0]
    dataset.rename(columns={first: "renamed"}).to_csv(source, index=False)
    bad = IngestConfig(source=str(source), output=tmp_path / "raw" / "dataset.csv")

    with pytest.raises(DataValidationError, match=f"missing column `{first}`"):
        train_candidate(ingest_config=bad)

    client = MlflowClient(tracking_uri)
    assert registry.versions(client) == []
    assert client.search_runs(experiment_ids=["0"]) == []
    assert client.get_experiment_by_name(tracking.EXPERIMENT_NAME) is None


def test_the_command_exits_non_zero_on_bad_data_and_registers_nothing(
    tracking_uri: str, tmp_path: Path, dataset: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "upstream.csv"
    dataset.assign(target="yes").to_csv(source, index=False)
    ingest_config = tmp_path / "ingest.yaml"
    ingest_config.write_text(f"source: {source}\noutput: {tmp_path / 'raw.csv'}\n")
    arguments = ["--config", str(CONFIG), "--ingest-config", str(ingest_config)]
    model_file = tmp_path / "model.joblib"

    code = main([*arguments, "--model-file", str(model_file), "--reports", str(tmp_path)])

    assert code == 1
    assert "column `target` should be" in capsys.readouterr().err
    assert registry.versions(MlflowClient(tracking_uri)) == []
    assert not model_file.exists()


def test_an_estimator_that_cannot_be_built_is_a_config_error(
    train_candidate: Train, train_config: TrainConfig
) -> None:
    missing = replace(train_config, estimator=EstimatorConfig("sklearn.linear_model.Nope"))
    with pytest.raises(ConfigError, match="cannot import sklearn.linear_model.Nope"):
        train_candidate(missing)
    wrong = replace(
        train_config,
        estimator=EstimatorConfig(train_config.estimator.class_path, {"colour": "red"}),
    )
    with pytest.raises(ConfigError, match="colour"):
        train_candidate(wrong)


def test_every_way_of_training_builds_the_configured_model(
    train_candidate: Train,
    worse_config: TrainConfig,
    dataset: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pipeline (`make train`, model CI, the release), `python -m ...train` and the tests'
    model file all come from train.build_model: configs/train.yaml decides what each trains."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "train.yaml").write_text(to_yaml(worse_config))
    monkeypatch.chdir(tmp_path)
    configured = worse_config.estimator.class_path.rpartition(".")[2]

    assert type(train.build_model()[-1]).__name__ == configured
    train.train(dataset, tmp_path / "quick.joblib")
    assert type(joblib.load(tmp_path / "quick.joblib")[-1]).__name__ == configured
    version = train_candidate(worse_config).version
    assert type(mlflow.sklearn.load_model(registry.model_uri(version))[-1]).__name__ == configured


def test_git_commit_is_recorded_and_unknown_outside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    outside = tmp_path / "outside"
    outside.mkdir()
    assert tracking.git_tags(outside) == {"git.commit": "unknown", "git.dirty": "unknown"}

    repository = tmp_path / "repository"
    repository.mkdir()
    (repository / "file.txt").write_text("one\n")
    settings = ["user.name=Test", "user.email=test@example.com", "commit.gpgsign=false"]
    commit = [part for setting in settings for part in ("-c", setting)] + ["commit", "-qm", "one"]
    for command in (["init", "-q"], ["add", "file.txt"], commit):
        subprocess.run(["git", *command], cwd=repository, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert tracking.git_tags(repository) == {"git.commit": head, "git.dirty": "false"}
    (repository / "file.txt").write_text("two\n")
    assert tracking.git_tags(repository)["git.dirty"] == "true"


def test_the_local_store_keeps_artifacts_beside_the_database(tmp_path: Path) -> None:
    assert tracking.artifact_location(f"sqlite:///{tmp_path}/mlflow.db") == (
        (tmp_path / "mlartifacts").as_uri()
    )
    assert tracking.artifact_location("sqlite:///mlflow.db") == (
        (Path.cwd() / "mlartifacts").as_uri()
    )
    assert tracking.artifact_location("https://mlflow.example.com") is None
