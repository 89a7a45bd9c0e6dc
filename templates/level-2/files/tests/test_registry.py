"""The registry conventions: aliases, gate verdicts and the manual release (promotion)."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from {{ package_name }} import registry, tracking


@pytest.fixture
def client(trained_tracking_uri: str) -> MlflowClient:
    """A store holding version 1, the candidate, which the gate has not checked yet."""
    return tracking.configure(trained_tracking_uri)


def test_nothing_registered_means_no_alias(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    assert registry.version_by_alias(client, registry.CANDIDATE) is None
    assert registry.versions(client) == []
    with pytest.raises(registry.RegistryError, match="has no version 1"):
        registry.get_version(client, "1")


def test_the_trained_version_is_the_candidate_and_not_the_champion(client: MlflowClient) -> None:
    assert registry.version_by_alias(client, registry.CANDIDATE).version == "1"
    assert registry.version_by_alias(client, registry.CHAMPION) is None
    assert registry.model_uri("1") == "models:/{{ package_name }}/1"
    assert registry.model_uri(alias="champion") == "models:/{{ package_name }}@champion"


def test_a_version_the_gate_has_not_passed_is_not_promoted(client: MlflowClient) -> None:
    with pytest.raises(registry.RegistryError, match="the gate has not checked it"):
        registry.promote(client, "1")
    registry.record_gate(client, "1", passed=False, summary="FAIL")
    with pytest.raises(registry.RegistryError, match="the gate said `failed`"):
        registry.promote(client, "1")
    assert registry.version_by_alias(client, registry.CHAMPION) is None

    forced = registry.promote(client, "1", force=True)
    assert forced == registry.Promotion("1", None)
    assert registry.version_by_alias(client, registry.CHAMPION).version == "1"


def test_promotion_moves_the_champion_and_remembers_the_previous_one(client: MlflowClient) -> None:
    first = registry.get_version(client, "1")
    second = registry.register(client, first.source, run_id=first.run_id)
    assert second.version == "2"
    assert registry.version_by_alias(client, registry.CANDIDATE).version == "2"
    for version in ("1", "2"):
        registry.record_gate(client, version, passed=True, summary="ok")

    assert registry.promote(client, "1") == registry.Promotion("1", None)
    assert registry.promote(client, "2") == registry.Promotion("2", "1")

    champion = registry.version_by_alias(client, registry.CHAMPION)
    assert champion.version == "2"
    assert champion.tags[registry.PREVIOUS_CHAMPION_TAG] == "1"
    assert registry.PROMOTED_AT_TAG in champion.tags
    assert sorted(champion.aliases) == [registry.CANDIDATE, registry.CHAMPION]


def test_the_command_lists_and_promotes(
    client: MlflowClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert registry.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "candidate" in listed and "champion" not in listed

    assert registry.main(["promote", "1"]) == 1
    assert "cannot be promoted" in capsys.readouterr().err
    registry.record_gate(client, "1", passed=True, summary="ok")
    assert registry.main(["promote", "1"]) == 0
    assert "version 1 is now `champion`" in capsys.readouterr().out
    assert registry.main(["promote", "9"]) == 1
