{# Level 4: the `production` section, the labelled production data a retrain learns from. #}

{% block keys %}, "production"{% endblock %}

{% block sections %}

PRODUCTION_KEYS = {"snapshots", "window_days", "max_share", "recent_share", "min_rows"}


@dataclass(frozen=True)
class ProductionConfig:
    """The labelled production data trained on besides the reference data (training_data.py)."""

    snapshots: Path = Path("data/snapshots")
    window_days: float = 30.0
    max_share: float = 0.5
    recent_share: float = 0.2
    min_rows: int = 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshots": self.snapshots.as_posix(),
            "window_days": self.window_days,
            "max_share": self.max_share,
            "recent_share": self.recent_share,
            "min_rows": self.min_rows,
        }


def parse_production(raw: Any) -> ProductionConfig | None:
    """The `production` section; absent or empty, the reference data alone is trained on."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"`production` must be a mapping of {sorted(PRODUCTION_KEYS)}")
    unknown = set(raw) - PRODUCTION_KEYS
    if unknown:
        known = sorted(PRODUCTION_KEYS)
        raise ConfigError(f"`production`: unknown keys {sorted(unknown)}; known keys are {known}")
    defaults = ProductionConfig()
    snapshots = raw.get("snapshots", defaults.snapshots.as_posix())
    if not isinstance(snapshots, str) or not snapshots:
        raise ConfigError(f"`production.snapshots` must be a directory, not {snapshots!r}")
    min_rows = raw.get("min_rows", defaults.min_rows)
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 2:
        raise ConfigError(f"`production.min_rows` must be an integer above 1, not {min_rows!r}")
    window = raw.get("window_days", defaults.window_days)
    return ProductionConfig(
        snapshots=Path(snapshots),
        window_days=_number(window, "production.window_days", 0, float("inf")),
        max_share=_number(raw.get("max_share", defaults.max_share), "production.max_share", 0, 0.9),
        recent_share=_number(
            raw.get("recent_share", defaults.recent_share), "production.recent_share", 0, 0.5
        ),
        min_rows=min_rows,
    )
{% endblock %}

{% block train_config_fields %}
    production: ProductionConfig | None = None
{%- endblock %}

{% block as_dict_sections %}
            **({"production": self.production.as_dict()} if self.production else {}),
{%- endblock %}

{% block as_params_sections %}
        if self.production is not None:
            for name, value in self.production.as_dict().items():
                params[f"production.{name}"] = value
{%- endblock %}

{% block parse_sections %}
        production=parse_production(raw.get("production")),
{%- endblock %}
