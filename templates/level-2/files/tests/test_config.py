"""The training configuration: the shipped file, overrides, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ package_name }}.config import ConfigError, TrainConfig, load_config, to_yaml

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "train.yaml"


def test_the_shipped_features_are_the_bundled_data_set_columns(
    train_config: TrainConfig, dataset: pd.DataFrame
) -> None:
    assert list(train_config.features) == [c for c in dataset.columns if c != "target"]
    assert train_config.target_type == "{% if is_classification %}int{% else %}float{% endif %}"


def test_overrides_are_dotted_keys_with_yaml_values(train_config: TrainConfig) -> None:
    overrides = ["sample_fraction=0.5", "estimator.params.{% if is_classification %}C{% else %}alpha{% endif %}=0.25", "estimator.scale=false"]
    config = load_config(SHIPPED, [*overrides, "seed=7"])
    assert config.sample_fraction == 0.5
    assert config.estimator.params["{% if is_classification %}C{% else %}alpha{% endif %}"] == 0.25
    assert config.estimator.scale is False
    assert config.seed == 7
    assert config.features == train_config.features


def test_params_are_flat_and_yaml_round_trips(tmp_path: Path, train_config: TrainConfig) -> None:
    params = train_config.as_params()
    assert params["estimator.class"] == train_config.estimator.class_path
    assert params["n_features"] == len(train_config.features)
    copy = tmp_path / "train.yaml"
    copy.write_text(to_yaml(train_config))
    assert load_config(copy) == train_config


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sead=1", r"unknown keys \['sead'\]"),
        ("split.size=0.3", r"`split`: unknown keys \['size'\]"),
        ("sample_fraction=0", "`sample_fraction` must be a number above 0"),
        ("sample_fraction=1.5", "`sample_fraction` must be a number above 0"),
        ("split.test_size=yes", "`split.test_size` must be a number"),
        ("seed=1.5", "`seed` must be an integer"),
        ("target=text", "`target`: type 'text'"),
        ("features.colour=str", "`features.colour`: type 'str'"),
        ("estimator.class=LogisticRegression", "`estimator.class` must be an import path"),
        ("estimator.params=3", "`estimator.params` must be a mapping"),
        ("seed", "expected KEY=VALUE"),
        ("seed.value=1", "`seed` is not a section"),
    ],
)
def test_mistakes_are_refused_with_the_key_named(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(SHIPPED, [override])
