"""The training configuration, `configs/train.yaml`: what the pipeline trains, on what, and how.

`load_config` reads the file, applies `--set KEY=VALUE` overrides (a dotted key and a YAML value,
such as `estimator.params.{% if is_classification %}C=0.5{% else %}alpha=10{% endif %}`), and refuses unknown keys and values of the wrong kind
with a message that names the key, so a typo fails before a run rather than training something
else than intended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path("configs/train.yaml")
FEATURE_TYPES = ("float", "int")
KEYS = {"seed", "sample_fraction", "split", "target", "features", "estimator"{% block keys %}{% endblock %}}
SPLIT_KEYS = {"test_size"}
ESTIMATOR_KEYS = {"class", "scale", "params"}
# The hyperparameter search (search.py): its section and the keys in it.
KEYS |= {"search"}
SEARCH_KEYS = {"strategy", "trials", "folds", "space"}
SEARCH_STRATEGIES = ("grid", "random")


class ConfigError(ValueError):
    """The configuration cannot be used as it is."""


@dataclass(frozen=True)
class EstimatorConfig:
    class_path: str
    params: dict[str, Any] = field(default_factory=dict)
    scale: bool = True


@dataclass(frozen=True)
class SearchConfig:
    """A hyperparameter search: `trials` candidates from `space` (estimator parameter names and
    the values to try), each scored by `folds`-fold cross-validation; none when `trials` is 0."""

    strategy: str = "grid"
    trials: int = 0
    folds: int = 3
    space: dict[str, list[Any]] = field(default_factory=dict)
{% block sections %}{% endblock %}

@dataclass(frozen=True)
class TrainConfig:
    features: dict[str, str]
    estimator: EstimatorConfig
    target_type: str = "{% if is_classification %}int{% else %}float{% endif %}"
    seed: int = 42
    test_size: float = 0.2
    sample_fraction: float = 1.0
    search: SearchConfig = field(default_factory=SearchConfig)
{%- block train_config_fields %}{% endblock %}

    def as_dict(self) -> dict[str, Any]:
        """The configuration in the shape of the file."""
        return {
            "seed": self.seed,
            "sample_fraction": self.sample_fraction,
            "split": {"test_size": self.test_size},
            "target": self.target_type,
            "features": dict(self.features),
            "estimator": {
                "class": self.estimator.class_path,
                "scale": self.estimator.scale,
                "params": dict(self.estimator.params),
            },
            "search": {
                "strategy": self.search.strategy,
                "trials": self.search.trials,
                "folds": self.search.folds,
                "space": {name: list(values) for name, values in self.search.space.items()},
            },
{%- block as_dict_sections %}{% endblock %}
        }

    def as_params(self) -> dict[str, Any]:
        """Flat parameters to record with a run; the features are recorded as a count."""
        params: dict[str, Any] = {
            "seed": self.seed,
            "sample_fraction": self.sample_fraction,
            "split.test_size": self.test_size,
            "n_features": len(self.features),
            "estimator.class": self.estimator.class_path,
            "estimator.scale": self.estimator.scale,
        }
        for name, value in sorted(self.estimator.params.items()):
            params[f"estimator.params.{name}"] = value
        if self.search.trials:
            params["search.strategy"] = self.search.strategy
            params["search.trials"] = self.search.trials
            params["search.folds"] = self.search.folds
{%- block as_params_sections %}{% endblock %}
        return params


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Sets `a.b.c=value` in `raw`; the value is read as YAML (`0.5` is a number, `true` a bool)."""
    key, separator, text = assignment.partition("=")
    if not separator or not key:
        raise ConfigError(f"override `{assignment}`: expected KEY=VALUE, such as seed=7")
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override `{assignment}`: `{part}` is not a section")
        node = child
    node[last] = yaml.safe_load(text)


def _section(raw: dict[str, Any], key: str, known: set[str]) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must be a mapping of {sorted(known)}")
    unknown = set(value) - known
    if unknown:
        known_keys = sorted(known)
        raise ConfigError(f"`{key}`: unknown keys {sorted(unknown)}; known keys are {known_keys}")
    return value


def _number(value: Any, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise ConfigError(f"`{key}` must be a number above {low} and at most {high}, not {value!r}")
    return float(value)


def _search(raw: dict[str, Any]) -> SearchConfig:
    search = _section(raw, "search", SEARCH_KEYS)
    strategy = search.get("strategy", SearchConfig.strategy)
    if strategy not in SEARCH_STRATEGIES:
        raise ConfigError(f"`search.strategy`: {strategy!r} is not one of {SEARCH_STRATEGIES}")
    counts = {}
    for key, low in (("trials", 0), ("folds", 2)):
        value = search.get(key, getattr(SearchConfig, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"`search.{key}` must be an integer of at least {low}, not {value!r}")
        counts[key] = value
    space = search.get("space") or {}
    if not isinstance(space, dict):
        raise ConfigError("`search.space` must map estimator parameters to lists of values")
    for name, values in space.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"`search.space.{name}` must be a non-empty list of values")
    if counts["trials"] and not space:
        raise ConfigError("`search.space` is empty: name the parameters to search, or set trials 0")
    return SearchConfig(
        strategy=strategy,
        trials=counts["trials"],
        folds=counts["folds"],
        space={str(name): list(values) for name, values in space.items()},
    )


def parse(raw: dict[str, Any]) -> TrainConfig:
    """A `TrainConfig` from the file's mapping, checked key by key."""
    unknown = set(raw) - KEYS
    if unknown:
        raise ConfigError(f"unknown keys {sorted(unknown)}; known keys are {sorted(KEYS)}")

    features = raw.get("features")
    if not isinstance(features, dict) or not features:
        raise ConfigError("`features` must map each feature column to its type")
    for name, kind in features.items():
        if kind not in FEATURE_TYPES:
            raise ConfigError(f"`features.{name}`: type {kind!r} is not one of {FEATURE_TYPES}")
    target_type = raw.get("target", TrainConfig.target_type)
    if target_type not in FEATURE_TYPES:
        raise ConfigError(f"`target`: type {target_type!r} is not one of {FEATURE_TYPES}")

    estimator = _section(raw, "estimator", ESTIMATOR_KEYS)
    class_path = estimator.get("class")
    if not isinstance(class_path, str) or "." not in class_path:
        raise ConfigError("`estimator.class` must be an import path, such as sklearn.svm.SVC")
    params = estimator.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError("`estimator.params` must be a mapping of parameter names to values")

    seed = raw.get("seed", TrainConfig.seed)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"`seed` must be an integer, not {seed!r}")
    split = _section(raw, "split", SPLIT_KEYS)
    return TrainConfig(
        features={str(name): str(kind) for name, kind in features.items()},
        estimator=EstimatorConfig(
            class_path=class_path,
            params={str(name): value for name, value in params.items()},
            scale=bool(estimator.get("scale", True)),
        ),
        target_type=str(target_type),
        seed=seed,
        test_size=_number(split.get("test_size", TrainConfig.test_size), "split.test_size", 0, 0.9),
        sample_fraction=_number(
            raw.get("sample_fraction", TrainConfig.sample_fraction), "sample_fraction", 0, 1
        ),
        search=_search(raw),
{%- block parse_sections %}{% endblock %}
    )


def load_config(path: Path = DEFAULT_CONFIG, overrides: list[str] | None = None) -> TrainConfig:
    """Reads `path`, applies the overrides in order, and checks the result."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of {sorted(KEYS)}")
    for assignment in overrides or []:
        apply_override(raw, assignment)
    try:
        return parse(raw)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def to_yaml(config: TrainConfig) -> str:
    return yaml.safe_dump(config.as_dict(), sort_keys=False)
