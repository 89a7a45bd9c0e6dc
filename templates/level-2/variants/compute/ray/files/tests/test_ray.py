"""The Ray engine: the search as Ray Tune trials and batch scoring with Ray Data on a local
cluster of 2 CPUs (the `ray_cluster` fixture), the same results as in the process; and what
`make train-remote` checks before it submits anything."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pathspec import PathSpec

from {{ package_name }} import cluster, remote, search
from {{ package_name }}.batch import score_directory
from {{ package_name }}.compute import RaySettings, load_config, ray_settings
from {{ package_name }}.config import TrainConfig
from {{ package_name }}.data.ingest import IngestConfig, ingest
from {{ package_name }}.pipeline import split
from {{ package_name }}.score import LoadedModel

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory: pytest.TempPathFactory, train_config: TrainConfig) -> pd.DataFrame:
    output = tmp_path_factory.mktemp("ray-search") / "dataset.csv"
    return split(pd.read_csv(ingest(IngestConfig(output=output)).path), train_config).train


def test_the_search_gives_the_same_best_parameters_on_ray_and_in_the_process(
    ray_cluster: None, train_config: TrainConfig, train_rows: pd.DataFrame
) -> None:
    assert train_config.search.trials == 16
    on_ray = search.run_search(train_config, train_rows, "ray")
    in_process = search.run_search(train_config, train_rows, "local")
    assert [trial.index for trial in on_ray.trials] == list(range(16))
    assert [trial.params for trial in on_ray.trials] == [t.params for t in in_process.trials]
    assert [trial.score for trial in on_ray.trials] == pytest.approx(
        [trial.score for trial in in_process.trials]
    )
    assert on_ray.best.params == in_process.best.params
    assert on_ray.engine == "ray"


def test_partitions_are_scored_by_ray_data_as_in_the_process(
    ray_cluster: None,
    partitioned: tuple[Path, pd.DataFrame],
    fitted: LoadedModel,
    tmp_path: Path,
) -> None:
    root, _ = partitioned
    on_ray = score_directory(fitted, root, tmp_path / "ray", "ray")
    in_process = score_directory(fitted, root, tmp_path / "local", "local")
    assert [path.relative_to(tmp_path / "ray") for path in on_ray] == [
        path.relative_to(tmp_path / "local") for path in in_process
    ]
    for path in on_ray:
        local = tmp_path / "local" / path.relative_to(tmp_path / "ray")
        read = pd.read_parquet if path.suffix == ".parquet" else pd.read_csv
        pd.testing.assert_frame_equal(read(path), read(local))


def test_an_unreachable_cluster_fails_at_once_with_its_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    monkeypatch.setenv("RAY_ADDRESS", "http://127.0.0.1:9")
    monkeypatch.delenv("COMPUTE_ENGINE")
    started = time.monotonic()
    assert remote.main(["--config", str(PROJECT_ROOT / "configs" / "compute.yaml")]) == 1
    assert time.monotonic() - started < 10
    error = capsys.readouterr().err
    assert "cannot reach the Ray cluster at `http://127.0.0.1:9`" in error
    assert "ray start --head" in error
    with pytest.raises(cluster.ClusterUnreachableError, match="ray://127.0.0.1:9"):
        cluster.check_reachable("ray://127.0.0.1:9", timeout=1)
    assert cluster.host_and_port("ray-head:6379") == ("ray-head", 6379)


def test_a_local_tracking_store_is_made_absolute_or_refused() -> None:
    absolute = remote.job_tracking_uri("sqlite:///mlflow.db", "http://127.0.0.1:8265")
    assert absolute == f"sqlite:///{Path('mlflow.db').resolve()}"
    assert remote.job_tracking_uri(absolute, "http://localhost:8265") == absolute
    server = "https://mlflow.example.com"
    assert remote.job_tracking_uri(server, "http://ray.example.com:8265") == server
    with pytest.raises(remote.RemoteError, match="set MLFLOW_TRACKING_URI to a tracking server"):
        remote.job_tracking_uri("sqlite:///mlflow.db", "http://ray.example.com:8265")


def test_the_job_carries_the_project_and_its_requirements() -> None:
    settings = ray_settings(PROJECT_ROOT / "configs" / "compute.yaml")
    env = remote.runtime_env(settings, "sqlite:////tmp/mlflow.db", PROJECT_ROOT)
    assert env["working_dir"] == str(PROJECT_ROOT)
    assert env["env_vars"]["MLFLOW_TRACKING_URI"] == "sqlite:////tmp/mlflow.db"
    assert "ray[data,default,tune]==2.60.0" in env["pip"]
    excluded = PathSpec.from_lines("gitwildmatch", env["excludes"])
    assert excluded.match_file("mlflow.db") and excluded.match_file("data/raw/dataset.csv")
    assert not excluded.match_file("src/{{ package_name }}/data/ingest.py")
    without = RaySettings(install_requirements=False)
    assert "pip" not in remote.runtime_env(without, "sqlite:////tmp/mlflow.db", PROJECT_ROOT)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("engine: spark", "`engine` must be one of local, ray"),
        ("max_concurrent_trials: 0", "`max_concurrent_trials` must be a positive integer"),
        ("trial_resources: {cpu: -1}", "`trial_resources` must map resources"),
        ("install_requirements: maybe", "`install_requirements` must be true or false"),
        ("cluster: x", "unknown keys ['cluster']"),
    ],
)
def test_ray_settings_of_the_wrong_kind_are_refused(
    tmp_path: Path, line: str, message: str
) -> None:
    raw = yaml.safe_load((PROJECT_ROOT / "configs" / "compute.yaml").read_text())
    path = tmp_path / "compute.yaml"
    path.write_text(yaml.safe_dump({**raw, **yaml.safe_load(line)}))
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_compute_engine_overrides_the_configured_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    config = PROJECT_ROOT / "configs" / "compute.yaml"
    monkeypatch.setenv("COMPUTE_ENGINE", "ray")
    assert ray_settings(config).engine == "ray"
    monkeypatch.setenv("RAY_ADDRESS", "http://10.0.0.7:8265")
    assert ray_settings(config).address == "http://10.0.0.7:8265"
