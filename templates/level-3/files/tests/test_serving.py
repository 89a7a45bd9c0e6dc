"""A/B serving: the configuration, the sticky router, and which challenger is accepted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from {{ package_name }}.score import load_model
from {{ package_name }}.serving import (
    CHALLENGER,
    CHAMPION,
    Router,
    ServingConfig,
    ServingConfigError,
    bucket,
    load_challenger,
    load_config,
)

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "serving.yaml"


def test_the_shipped_configuration_serves_the_challenger_alias() -> None:
    config = load_config(SHIPPED, environ={})
    assert config.challenger == "models:/{{ package_name }}@challenger"
    assert 0 < config.challenger_share < 0.5
    assert config.prediction_log == Path("logs/predictions.jsonl")
    assert config.feedback_log == Path("logs/feedback.jsonl")


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    environ = {
        "CHALLENGER_URI": "models:/{{ package_name }}/7",
        "CHALLENGER_SHARE": "0.5",
        "PREDICTION_LOG": str(tmp_path / "p.jsonl"),
        "FEEDBACK_LOG": "",
    }
    config = load_config(SHIPPED, environ=environ)
    assert config.challenger == "models:/{{ package_name }}/7"
    assert config.challenger_share == 0.5
    assert config.prediction_log == tmp_path / "p.jsonl"
    assert config.feedback_log is None
    assert load_config(SHIPPED, environ={"CHALLENGER_URI": ""}).challenger is None


def test_without_a_file_nothing_is_challenged(tmp_path: Path) -> None:
    config = load_config(tmp_path / "missing.yaml", environ={})
    assert config == ServingConfig()
    assert config.challenger is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("challenger:\n  share: 1.5\n", "must be a number from 0 to 1"),
        ("challenger:\n  share: half\n", "must be a number from 0 to 1"),
        ("challenger:\n  weight: 0.1\n", "`challenger` takes"),
        ("routes: []\n", "expected a mapping"),
    ],
)
def test_a_bad_configuration_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "serving.yaml"
    path.write_text(text)
    with pytest.raises(ServingConfigError, match=message):
        load_config(path, environ={})


def test_the_same_key_always_gets_the_same_variant() -> None:
    router = Router(0.5, "salt")
    for index in range(200):
        key = f"user-{index}"
        first = router.assign(key).variant
        assert all(router.assign(key).variant == first for _ in range(5))
        # Another router with the same settings, as on another replica, agrees.
        assert Router(0.5, "salt").assign(key).variant == first


def test_the_split_follows_the_share_and_the_salt_reshuffles() -> None:
    keys = [f"user-{index}" for index in range(4000)]
    for share in (0.0, 0.1, 0.5, 1.0):
        router = Router(share, "salt")
        challenged = sum(router.assign(key).variant == CHALLENGER for key in keys) / len(keys)
        assert challenged == pytest.approx(share, abs=0.03)
    first = [bucket("one", key) < 0.5 for key in keys]
    second = [bucket("two", key) < 0.5 for key in keys]
    assert 0.4 < sum(a != b for a, b in zip(first, second, strict=True)) / len(keys) < 0.6


def test_a_request_without_a_key_gets_a_fresh_one() -> None:
    router = Router(0.5, "salt")
    assignments = [router.assign(None) for _ in range(400)]
    assert len({assignment.key for assignment in assignments}) == 400
    challenged = sum(assignment.variant == CHALLENGER for assignment in assignments)
    assert 120 < challenged < 280
    assert Router(0.0, "salt").assign(None).variant == CHAMPION


def test_a_challenger_is_served_only_next_to_a_different_champion(
    model_path: Path, challenger_path: Path, tmp_path: Path
) -> None:
    champion = load_model(model_path)
    assert load_challenger(str(challenger_path), champion).sha256 != champion.sha256
    assert load_challenger(None, champion) is None
    assert load_challenger(str(challenger_path), None) is None
    assert load_challenger(str(tmp_path / "missing.joblib"), champion) is None
    assert load_challenger(str(model_path), champion) is None
    other_features = replace(champion, features=["colour"])
    assert load_challenger(str(challenger_path), other_features) is None
