{# Level 4: the gate compares challenger and champion on the most recent production rows too. #}

{% block docstring %}

From level 4 a candidate trained on production's labelled rows holds out the most recent of them
(training_data.py). The gate scores the candidate and the champion on that recent slice as well,
and `recent` of configs/gates.yaml decides on both slices: the candidate must beat the champion on
the recent slice, and may trail it by at most `max_regression` on the reference test set.
{%- endblock %}

{% block rules %}


@dataclass(frozen=True)
class RecentRule:
    """How the candidate must compare with the champion on the recent slice, and how much it may
    lose on the reference test set for it (`recent` of configs/gates.yaml)."""

    metric: str
    min_improvement: float = 0.0
    max_regression: float = 0.0


def recent_rule(raw: Any, path: Path) -> RecentRule | None:
    """The `recent` section; absent, the gate compares on the reference test set alone."""

    def fail(message: str) -> GateError:
        return GateError(f"{path}: {message}")

    if raw is None:
        return None
    keys = {"metric", "min_improvement", "max_regression"}
    if not isinstance(raw, dict) or set(raw) - keys or "metric" not in raw:
        raise fail(f"`recent` takes `metric` and may take {sorted(keys - {'metric'})}")
    if raw["metric"] not in HIGHER_IS_BETTER:
        known = sorted(HIGHER_IS_BETTER)
        raise fail(f"`recent.metric`: unknown metric {raw['metric']!r}; known metrics are {known}")
    values = {}
    for key in ("min_improvement", "max_regression"):
        value = raw.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(f"`recent.{key}` must be a number, not {value!r}")
        values[key] = float(value)
    if values["max_regression"] < 0:
        raise fail("`recent.max_regression` must not be negative")
    return RecentRule(raw["metric"], **values)
{%- endblock %}

{% block gate_config_fields %}
    recent: RecentRule | None = None
{%- endblock %}

{% block gate_result_fields %}
    recent_metrics: dict[str, float] | None = None
    champion_recent_metrics: dict[str, float] | None = None
{%- endblock %}

{% block result_dict %}
            "recent_metrics": self.recent_metrics,
            "champion_recent_metrics": self.champion_recent_metrics,
{%- endblock %}

{% block markdown_tables %}
        if self.recent_metrics is not None:
            lines.extend(["", "| on the recent slice | candidate | champion |", "|---|---|---|"])
            for name, value in self.recent_metrics.items():
                other = (self.champion_recent_metrics or {}).get(name)
                shown = "-" if other is None else f"{other:.4f}"
                lines.append(f"| {name} | {value:.4f} | {shown} |")
{%- endblock %}

{% block config_keys %}, "recent"{% endblock %}

{% block config_arguments %}, recent_rule(raw.get("recent"), path){% endblock %}

{% block decide_parameters %}
    recent_metrics: dict[str, float] | None = None,
    champion_recent_metrics: dict[str, float] | None = None,
{%- endblock %}

{% block champion_check %}
        rule = config.recent
        if rule is not None and recent_metrics and champion_recent_metrics:
            # Judged on both slices: better on the recent one, not much worse on the reference.
            checks.append(
                Check(
                    f"{metric} on the reference test set within {rule.max_regression:g} of "
                    f"champion v{champion_version}",
                    gain >= -rule.max_regression,
                    f"{metrics[metric]:.4f} vs {champion_metrics[metric]:.4f}, {gain:+.4f}",
                )
            )
            name = rule.metric
            ahead = improvement(name, recent_metrics[name], champion_recent_metrics[name])
            checks.append(
                Check(
                    f"{name} on the recent slice beats champion v{champion_version} by >= "
                    f"{rule.min_improvement:g}",
                    ahead >= rule.min_improvement,
                    f"{recent_metrics[name]:.4f} vs {champion_recent_metrics[name]:.4f}, "
                    f"{ahead:+.4f}",
                )
            )
        else:
            checks.append(
                Check(
                    f"{metric} beats champion v{champion_version} by >= {config.min_improvement:g}",
                    gain >= config.min_improvement,
                    f"{metrics[metric]:.4f} vs {champion_metrics[metric]:.4f}, {gain:+.4f}",
                )
            )
{%- endblock %}

{% block decide_result %}
    return GateResult(
        version,
        metrics,
        checks,
        champion_version,
        champion_metrics,
        notes,
        recent_metrics,
        champion_recent_metrics,
    )
{%- endblock %}

{% block score_slices %}
    recent_metrics = champion_recent_metrics = None
    recent = training_data.load_recent_set(candidate.run_id)
    if recent is not None:
        recent_metrics = score(candidate.version, recent)
        if champion_metrics is not None:
            champion_recent_metrics = score(champion.version, recent)
{%- endblock %}

{% block decide_arguments %}
        recent_metrics,
        champion_recent_metrics,
{%- endblock %}

{% block modules %}, training_data{% endblock %}
