"""The retraining policy: N of the last M windows and the latest, the cooldown and the daily cap,
and the configuration that states them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from {{ package_name }}.monitor import load_config
from {{ package_name }}.policy import Decision, Policy, PolicyError, Rule, decide, parse

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "monitoring.yaml"


def policy(
    violations: int = 3, windows: int = 4, cooldown_hours: float = 24, max_per_day: int = 1
) -> Policy:
    rules = [Rule("max_psi", "max", 0.5)]
    return Policy(rules, violations, windows, timedelta(hours=cooldown_hours), max_per_day)


def hours_ago(*hours: float) -> list[datetime]:
    return [NOW - timedelta(hours=value) for value in hours]


def check(
    verdicts: str, fired: list[datetime], expected: bool, blocked_by: str | None = None, **kw
) -> Decision:
    """`verdicts` reads oldest first: `x` a violated window, `.` a good one."""
    decision = decide(policy(**kw), [mark == "x" for mark in verdicts], fired, NOW)
    assert decision.fire is expected, decision
    assert decision.blocked_by == blocked_by, decision
    return decision


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (".xxx", True),  # three of the last four, the latest included
        ("xxxx", True),
        ("xx.x", True),
        ("xxx", True),  # fewer windows than M, but N of them
        ("xxx.", False),  # the latest is fine: the problem may have gone away
        (".x.x", False),  # two of four
        ("xx", False),  # not enough windows yet
        ("", False),
        ("xxx...x", False),  # older violations fall out of the last M
        ("....xxx", True),
    ],
)
def test_n_of_the_last_m_windows_and_the_latest(verdicts: str, expected: bool) -> None:
    check(verdicts, [], expected)


def test_the_decision_counts_the_windows_it_considered() -> None:
    decision = check("x.x.xxx", [], True)
    assert (decision.violated, decision.considered) == (3, 4)
    assert "3 of the last 4 windows violated" in decision.reason
    assert "not the latest" in check("xxx.", [], False).reason


@pytest.mark.parametrize(
    ("fired_hours_ago", "expected", "blocked_by"),
    [
        ((1,), False, "cooldown"),
        ((23.9,), False, "cooldown"),
        ((24,), True, None),  # the cooldown is over exactly then
        ((30,), True, None),
        ((72, 1), False, "cooldown"),  # the latest firing counts
        ((), True, None),
    ],
)
def test_the_cooldown_follows_the_last_firing(
    fired_hours_ago: tuple[float, ...], expected: bool, blocked_by: str | None
) -> None:
    check("xxxx", hours_ago(*fired_hours_ago), expected, blocked_by)


@pytest.mark.parametrize(
    ("fired_hours_ago", "expected", "blocked_by"),
    [
        ((1, 2), False, "daily cap"),  # two in 24 hours: the cap
        ((1,), True, None),
        ((1, 25), True, None),  # older than a day: not counted
        ((23.5, 23.9), False, "daily cap"),
        ((24, 30, 40), True, None),
    ],
)
def test_the_daily_cap_counts_the_last_24_hours(
    fired_hours_ago: tuple[float, ...], expected: bool, blocked_by: str | None
) -> None:
    fired = hours_ago(*fired_hours_ago)
    check("xxxx", fired, expected, blocked_by, cooldown_hours=0, max_per_day=2)


def test_a_firing_recorded_in_the_future_is_ignored() -> None:
    check("xxxx", [NOW + timedelta(hours=1)], True)


def test_the_windows_are_judged_before_the_cooldown() -> None:
    # Inside the cooldown, good windows are still reported as the reason, not the cooldown.
    decision = check(".x.x", hours_ago(1), False)
    assert "2 of the last 4" in decision.reason


@pytest.mark.parametrize(
    ("rule", "metrics", "violated"),
    [
        (Rule("accuracy", "min", 0.9), {"accuracy": 0.85}, True),
        (Rule("accuracy", "min", 0.9), {"accuracy": 0.9}, False),
        (Rule("rmse", "max", 65.0), {"rmse": 70.0}, True),
        (Rule("rmse", "max", 65.0), {"rmse": 65.0}, False),
        (Rule("accuracy", "min", 0.9), {"max_psi": 3.0}, False),  # not measured: not counted
    ],
)
def test_a_rule_is_broken_only_by_a_measured_metric(
    rule: Rule, metrics: dict[str, float], violated: bool
) -> None:
    assert rule.violated(metrics) is violated


def test_a_window_is_violated_by_any_rule() -> None:
    rules = Policy([Rule("accuracy", "min", 0.9), Rule("max_psi", "max", 0.5)])
    assert rules.broken({"accuracy": 0.95, "max_psi": 0.1}) == []
    assert rules.broken({"max_psi": 0.7}) == ["max_psi <= 0.5 (measured 0.7)"]
    assert len(rules.broken({"accuracy": 0.5, "max_psi": 0.7})) == 2


def test_the_shipped_policy() -> None:
    config = load_config(SHIPPED, environ={})
    shipped = config.policy
    assert 1 <= shipped.violations <= shipped.windows
    assert shipped.cooldown >= timedelta(hours=1) and shipped.max_per_day >= 1
    metrics = {str(rule.metric) for rule in shipped.rules}
    assert "max_psi" in metrics
    assert { {%- if is_classification %}"accuracy"{% else %}"rmse"{% endif -%} } <= metrics
    assert config.window_size > 0 and config.dispatch == "{{ ci_provider }}"


def test_a_policy_is_parsed_from_its_section() -> None:
    parsed = parse(
        {
            "violated_when": {"accuracy": {"min": 0.9}, "max_psi": {"max": 0.25}},
            "violations": 2,
            "windows": 5,
            "cooldown_hours": 6,
            "max_per_day": 3,
        }
    )
    assert parsed == Policy(
        [Rule("accuracy", "min", 0.9), Rule("max_psi", "max", 0.25)],
        2,
        5,
        timedelta(hours=6),
        3,
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (None, "`policy` takes"),
        ({"violated_when": {}}, "at least one metric"),
        ({"violated_when": {"accuracy": 0.9}}, "must set `min`, `max` or both"),
        ({"violated_when": {"accuracy": {"least": 0.9}}}, "must set `min`, `max` or both"),
        ({"violated_when": {"accuracy": {"min": "high"}}}, "must be a number"),
        ({"violated_when": {"a": {"min": 1}}, "violations": 5, "windows": 4}, "exceeds"),
        ({"violated_when": {"a": {"min": 1}}, "windows": 0}, "positive integer"),
        ({"violated_when": {"a": {"min": 1}}, "cooldown_hours": -1}, "cooldown_hours"),
        ({"violated_when": {"a": {"min": 1}}, "max_per_day": True}, "positive integer"),
        ({"violated_when": {"a": {"min": 1}}, "windws": 4}, "`policy` takes"),
    ],
)
def test_a_bad_policy_is_refused(section: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse(section)
