"""The retraining policy: when production metrics say the model must be retrained.

Monitoring (monitor.py) cuts the prediction log into windows and measures each one: drift against
the training reference and, where enough labels arrived, performance. A window is *violated* when
it breaks one of the policy's rules, such as `{% if is_classification %}accuracy: {min: 0.9}{% else %}rmse: {max: 65}{% endif %}` or `max_psi: {max: 0.5}`; a rule
on a metric the window could not measure (performance without labels, say) does not count. The
policy fires when

- at least `violations` of the last `windows` windows are violated, and the latest one is too, so
  a single bad window does not retrain and a problem that has gone away does not either;
- the last time it fired is at least `cooldown_hours` ago, so the retraining it started has time
  to reach production before the same windows can fire it again;
- it fired fewer than `max_per_day` times in the last 24 hours.

`decide` is the rule itself, pure: the windows' verdicts, the times it fired before and the time
now in, a `Decision` out. The times it fired are state that the monitor keeps between runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DAY = timedelta(hours=24)
KEYS = {"violated_when", "violations", "windows", "cooldown_hours", "max_per_day"}


class PolicyError(ValueError):
    """The policy configuration cannot be used as it is."""


@dataclass(frozen=True)
class Rule:
    metric: str
    bound: str  # "min" or "max"
    value: float

    def violated(self, metrics: Mapping[str, float]) -> bool:
        """Whether the window's metrics break the rule; never when the metric is not measured."""
        measured = metrics.get(self.metric)
        if measured is None:
            return False
        return measured < self.value if self.bound == "min" else measured > self.value

    def __str__(self) -> str:
        return f"{self.metric} {'>=' if self.bound == 'min' else '<='} {self.value:g}"


@dataclass(frozen=True)
class Policy:
    rules: list[Rule]
    violations: int = 3
    windows: int = 4
    cooldown: timedelta = timedelta(hours=24)
    max_per_day: int = 1

    def broken(self, metrics: Mapping[str, float]) -> list[str]:
        """The rules a window's metrics break, with the measured value."""
        return [
            f"{rule} (measured {metrics[rule.metric]:.4g})"
            for rule in self.rules
            if rule.violated(metrics)
        ]


@dataclass(frozen=True)
class Decision:
    fire: bool
    reason: str
    violated: int = 0
    considered: int = 0
    blocked_by: str | None = None


def decide(
    policy: Policy, violated: Sequence[bool], fired: Sequence[datetime], now: datetime
) -> Decision:
    """Whether to retrain now, given each window's verdict (oldest first) and when the policy
    fired before."""
    last = list(violated)[-policy.windows :]
    count = sum(1 for verdict in last if verdict)
    window_text = f"{count} of the last {len(last)} windows violated"
    if not last:
        return Decision(False, "no complete window to judge yet")
    if count < policy.violations:
        reason = f"{window_text}; {policy.violations} are needed"
        return Decision(False, reason, count, len(last))
    if not last[-1]:
        reason = f"{window_text}, but not the latest: the problem may have gone away"
        return Decision(False, reason, count, len(last))
    before = [when for when in fired if when <= now]
    if before and now - max(before) < policy.cooldown:
        until = max(before) + policy.cooldown
        reason = f"{window_text}; cooling down until {until.isoformat(timespec='seconds')}"
        return Decision(False, reason, count, len(last), blocked_by="cooldown")
    today = sum(1 for when in before if now - when < DAY)
    if today >= policy.max_per_day:
        cap = policy.max_per_day
        reason = f"{window_text}; fired {today} times in the last 24 hours, the cap is {cap}"
        return Decision(False, reason, count, len(last), blocked_by="daily cap")
    return Decision(True, f"{window_text}, the latest included", count, len(last))


def _positive_int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PolicyError(f"`policy.{key}` must be a positive integer, not {value!r}")
    return value


def parse(raw: Any) -> Policy:
    """The `policy` section of configs/monitoring.yaml."""
    if not isinstance(raw, dict) or set(raw) - KEYS:
        raise PolicyError(f"`policy` takes {sorted(KEYS)}")
    rules = []
    conditions = raw.get("violated_when") or {}
    if not isinstance(conditions, dict) or not conditions:
        raise PolicyError("`policy.violated_when` must map at least one metric to `min` or `max`")
    for metric, bounds in conditions.items():
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
            raise PolicyError(f"`policy.violated_when.{metric}` must set `min`, `max` or both")
        for bound, value in bounds.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(
                    f"`policy.violated_when.{metric}.{bound}` must be a number, not {value!r}"
                )
            rules.append(Rule(str(metric), bound, float(value)))
    violations = _positive_int(raw, "violations", Policy.violations)
    windows = _positive_int(raw, "windows", Policy.windows)
    if violations > windows:
        raise PolicyError(
            f"`policy.violations` ({violations}) exceeds `policy.windows` ({windows})"
        )
    cooldown = raw.get("cooldown_hours", 24)
    if isinstance(cooldown, bool) or not isinstance(cooldown, int | float) or cooldown < 0:
        raise PolicyError(f"`policy.cooldown_hours` must be a number >= 0, not {cooldown!r}")
    return Policy(
        rules=rules,
        violations=violations,
        windows=windows,
        cooldown=timedelta(hours=float(cooldown)),
        max_per_day=_positive_int(raw, "max_per_day", Policy.max_per_day),
    )
