"""The hyperparameter search of `search` in configs/train.yaml: which estimator parameters to try,
how, and how many trials.

Every candidate is scored by the same cross-validation of the training rows (folds shuffled with
the configuration's `seed`), so a candidate's score does not depend on where it runs, and the best
is the highest score, the earliest trial on a tie: the same seed and space give the same best
parameters on every engine. The search space is checked against the estimator's own parameters
(`get_params()`) before any trial runs. Each trial is recorded as a nested MLflow run of the
pipeline's run, from this process; the best parameters then train the model that goes through
validation, the gate and registration as before.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sklearn.model_selection import (
{%- if not is_classification %}
    KFold,
{%- endif %}
    ParameterGrid,
    ParameterSampler,
{%- if is_classification %}
    StratifiedKFold,
{%- endif %}
    cross_val_score,
)

from .compute import ENGINES, configured_engine
from .config import ConfigError, SearchConfig, TrainConfig
from .data.ingest import TARGET
from .train import build_model

# What a trial maximises: {% if is_classification %}the area under the ROC curve{% else %}the negative root mean squared error{% endif %}, as scikit-learn names it.
SCORING = "{% if is_classification %}roc_auc{% else %}neg_root_mean_squared_error{% endif %}"


@dataclass(frozen=True)
class Trial:
    """One candidate and its cross-validated score; `index` is its place in the search."""

    index: int
    params: dict[str, Any]
    score: float
    seconds: float


@dataclass(frozen=True)
class SearchResult:
    engine: str
    trials: list[Trial]

    @property
    def best(self) -> Trial:
        """The highest score; on a tie, the earliest trial."""
        return max(self.trials, key=lambda trial: (trial.score, -trial.index))


def check_space(config: TrainConfig) -> None:
    """Refuses a space that names a parameter the estimator does not have, or has no values."""
    estimator = build_model(config.seed, config.estimator).steps[-1][1]
    known = estimator.get_params(deep=False)
    unknown = sorted(set(config.search.space) - set(known))
    if unknown:
        raise ConfigError(
            f"`search.space`: {config.estimator.class_path} has no parameter "
            f"{', '.join(unknown)}; its parameters are {', '.join(sorted(known))}"
        )


def candidates(search: SearchConfig, seed: int) -> list[dict[str, Any]]:
    """The parameters of each trial, in trial order: the grid's first `trials` points, or
    `trials` points drawn from it with `seed`."""
    space = {name: list(values) for name, values in sorted(search.space.items())}
    if search.strategy == "grid":
        points = list(ParameterGrid(space))[: search.trials]
    else:
        size = len(ParameterGrid(space))
        points = list(ParameterSampler(space, n_iter=min(search.trials, size), random_state=seed))
    return [dict(sorted(point.items())) for point in points]


def score(config: TrainConfig, train: pd.DataFrame, params: dict[str, Any]) -> float:
    """The mean cross-validated score of the configured model with `params` on `train`."""
    estimator = replace(config.estimator, params={**config.estimator.params, **params})
    folds = {% if is_classification %}StratifiedKFold{% else %}KFold{% endif %}(n_splits=config.search.folds, shuffle=True, random_state=config.seed)
    features, target = train[list(config.features)], train[TARGET]
    scores = cross_val_score(
        build_model(config.seed, estimator), features, target, cv=folds, scoring=SCORING
    )
    return float(scores.mean())


def run_local(
    config: TrainConfig, train: pd.DataFrame, points: list[dict[str, Any]]
) -> list[Trial]:
    """Every trial in this process, one after the other."""
    trials = []
    for index, params in enumerate(points):
        started = time.perf_counter()
        value = score(config, train, params)
        trials.append(Trial(index, params, value, time.perf_counter() - started))
    return trials


def run_search(config: TrainConfig, train: pd.DataFrame, engine: str = "local") -> SearchResult:
    """Checks the space, then scores every candidate on `engine`."""
    if engine not in ENGINES:
        raise ConfigError(f"compute engine `{engine}` is not one of {', '.join(ENGINES)}")
    check_space(config)
    points = candidates(config.search, config.seed)
    runners: dict[str, Callable[..., list[Trial]]] = {"local": run_local}
{%- block runners %}{% endblock %}
    trials = runners[engine](config, train, points)
    return SearchResult(engine, sorted(trials, key=lambda trial: trial.index))


def log_trials(result: SearchResult, experiment_id: str) -> None:
    """Records each trial as a nested run of the active MLflow run, and the best one on it."""
    import mlflow

    for trial in result.trials:
        with mlflow.start_run(
            experiment_id=experiment_id, run_name=f"trial-{trial.index:03d}", nested=True
        ):
            mlflow.log_params(trial.params)
            mlflow.log_metrics({"cv_score": trial.score, "trial_seconds": trial.seconds})
            mlflow.set_tags({"search.trial": str(trial.index), "search.engine": result.engine})
    best = result.best
    mlflow.log_params({f"search.best.{name}": value for name, value in best.params.items()})
    # Tags rather than metrics: the run's metrics stay those of the held-out test set.
    mlflow.set_tags(
        {
            "search.engine": result.engine,
            "search.best_trial": str(best.index),
            "search.best_cv_score": str(best.score),
        }
    )


def tune(
    config: TrainConfig, train: pd.DataFrame, experiment_id: str, engine: str | None = None
) -> TrainConfig:
    """The configuration with the best parameters of the search, the trials logged; the
    configuration as it is when `search.trials` is 0."""
    if config.search.trials == 0:
        return config
    engine = engine or configured_engine()
    result = run_search(config, train, engine)
    log_trials(result, experiment_id)
    best = result.best
    print(
        f"search: {len(result.trials)} trials on `{engine}`, best trial {best.index} "
        f"({SCORING} {best.score:.4f}): {best.params}"
    )
    params = {**config.estimator.params, **best.params}
    return replace(config, estimator=replace(config.estimator, params=params))
