"""The hyperparameter search of configs/train.yaml: its candidates, its checks and its trials as
nested runs of the training run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ package_name }} import search
from {{ package_name }}.config import ConfigError, SearchConfig, TrainConfig
from {{ package_name }}.config import load_config as load_train_config
from {{ package_name }}.data.ingest import IngestConfig, ingest
from {{ package_name }}.pipeline import TrainingResult, split

SPACE = { {%- if is_classification %}"C": [0.01, 0.1, 1.0, 10.0], "tol": [0.0001, 0.001]{% else %}"alpha": [0.01, 0.1, 1.0, 10.0], "tol": [0.0001, 0.001]{% endif -%} }
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train.yaml"
PARAMETER = "{% if is_classification %}C{% else %}alpha{% endif %}"


def searching(config: TrainConfig, trials: int, strategy: str = "grid") -> TrainConfig:
    return replace(config, search=SearchConfig(strategy=strategy, trials=trials, space=SPACE))


@pytest.fixture(scope="module")
def train_rows(tmp_path_factory: pytest.TempPathFactory, train_config: TrainConfig) -> pd.DataFrame:
    output = tmp_path_factory.mktemp("search") / "dataset.csv"
    frame = pd.read_csv(ingest(IngestConfig(output=output)).path)
    return split(frame, train_config).train


def test_the_grid_is_tried_in_order_up_to_the_budget() -> None:
    points = search.candidates(SearchConfig(trials=3, space=SPACE), seed=0)
    assert points == [
        {PARAMETER: 0.01, "tol": 0.0001},
        {PARAMETER: 0.01, "tol": 0.001},
        {PARAMETER: 0.1, "tol": 0.0001},
    ]


def test_random_candidates_depend_on_the_seed_alone() -> None:
    config = SearchConfig(strategy="random", trials=5, space=SPACE)
    first = search.candidates(config, seed=7)
    assert first == search.candidates(config, seed=7)
    assert len(first) == 5 and len({tuple(point.items()) for point in first}) == 5
    assert search.candidates(replace(config, trials=100), seed=7) != []


def test_the_best_trial_is_the_highest_score_and_the_earliest_on_a_tie() -> None:
    trials = [search.Trial(0, {}, 0.5, 0), search.Trial(1, {}, 0.9, 0), search.Trial(2, {}, 0.9, 0)]
    assert search.SearchResult("local", trials).best.index == 1


def test_a_parameter_the_estimator_lacks_is_refused_before_any_trial(
    train_config: TrainConfig, train_rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_trial(*args: object) -> float:
        raise AssertionError("a trial ran")

    monkeypatch.setattr(search, "score", no_trial)
    config = replace(train_config, search=SearchConfig(trials=4, space={"n_neighbours": [1, 2]}))
    with pytest.raises(ConfigError, match="has no parameter n_neighbours; its parameters are"):
        search.run_search(config, train_rows)


def test_the_search_in_the_process_is_reproducible(
    train_config: TrainConfig, train_rows: pd.DataFrame
) -> None:
    config = searching(train_config, trials=8)
    first = search.run_search(config, train_rows, "local")
    second = search.run_search(config, train_rows, "local")
    assert [trial.index for trial in first.trials] == list(range(8))
    assert [trial.score for trial in first.trials] == [trial.score for trial in second.trials]
    assert first.best.params == second.best.params
    assert first.best.score == max(trial.score for trial in first.trials)


def test_search_settings_of_the_wrong_kind_are_refused() -> None:
    for override, message in [
        ("search.strategy=bayes", "`search.strategy`"),
        ("search.trials=-1", "`search.trials` must be an integer of at least 0"),
        ("search.folds=1", "`search.folds` must be an integer of at least 2"),
        (f"search.space.{PARAMETER}=3", f"`search.space.{PARAMETER}` must be a non-empty list"),
        ("search.budget=3", "`search`: unknown keys ['budget']"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_train_config(CONFIG, [override])


def test_each_trial_is_a_nested_run_and_the_best_is_trained(
    train_candidate: Callable[..., TrainingResult], tracking_uri: str, train_config: TrainConfig
) -> None:
    result = train_candidate(searching(train_config, trials=4))
    client = MlflowClient(tracking_uri)
    parent = client.get_run(result.run_id)
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{result.run_id}'"
    )
    assert sorted(run.data.tags["search.trial"] for run in children) == ["0", "1", "2", "3"]
    assert all("cv_score" in run.data.metrics for run in children)
    scores = {int(run.data.tags["search.trial"]): run.data.metrics["cv_score"] for run in children}
    best = max(scores, key=lambda index: (scores[index], -index))
    best_run = next(run for run in children if run.data.tags["search.trial"] == str(best))
    assert parent.data.tags["search.best_trial"] == str(best)
    assert parent.data.params[f"estimator.params.{PARAMETER}"] == best_run.data.params[PARAMETER]
    assert parent.data.params["search.trials"] == "4"
