{# compute=ray: the Ray cluster's settings, checked with the rest of configs/compute.yaml. #}

{% block engine_keys %}
# The compute engine's keys (`engine: ray`): `ray_settings` reads them.
KEYS = KEYS | {
    "engine",
    "address",
    "trial_resources",
    "max_concurrent_trials",
    "install_requirements",
}
{%- endblock %}

{% block check_engine %}
    ray_settings(path, raw)
{%- endblock %}

{% block engine %}


ENGINES = ("local", "ray")
RAY_ADDRESS_ENV = "RAY_ADDRESS"
ENGINE_ENV = "COMPUTE_ENGINE"
DEFAULT_RAY_ADDRESS = "http://127.0.0.1:8265"


@dataclass(frozen=True)
class RaySettings:
    """How the search and batch scoring use Ray: `engine` (`local` runs them in the process),
    the cluster's `address` (its Jobs API, `RAY_ADDRESS` overrides it), the resources of one
    trial, how many trials run at once, and whether a job installs the project's requirements.
    `COMPUTE_ENGINE` overrides `engine` for one run: `COMPUTE_ENGINE=local make train`."""

    engine: str = "ray"
    address: str = DEFAULT_RAY_ADDRESS
    trial_resources: dict[str, float] | None = None
    max_concurrent_trials: int = 2
    install_requirements: bool = True

    @property
    def resources(self) -> dict[str, float]:
        return dict(self.trial_resources or {"cpu": 1})


def ray_settings(path: Path = DEFAULT_CONFIG, raw: dict | None = None) -> RaySettings:
    """The Ray settings of configs/compute.yaml, with `RAY_ADDRESS` over `address`; refuses
    values of the wrong kind, naming the key."""
    if raw is None:
        raw = yaml.safe_load(path.read_text()) or {}
    defaults = RaySettings()
    engine = raw.get("engine", defaults.engine)
    if engine not in ENGINES:
        raise ValueError(f"{path}: `engine` must be one of {', '.join(ENGINES)}, not {engine!r}")
    engine = os.environ.get(ENGINE_ENV) or engine
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_ENV} must be one of {', '.join(ENGINES)}, not {engine!r}")
    address = raw.get("address", defaults.address)
    if not isinstance(address, str) or not address:
        raise ValueError(
            f"{path}: `address` must be the cluster's address, such as {DEFAULT_RAY_ADDRESS}"
        )
    resources = raw.get("trial_resources", {"cpu": 1})
    valid = (
        isinstance(resources, dict)
        and resources
        and all(
            isinstance(name, str)
            and not isinstance(amount, bool)
            and isinstance(amount, int | float)
            and amount > 0
            for name, amount in resources.items()
        )
    )
    if not valid:
        raise ValueError(
            f"{path}: `trial_resources` must map resources (cpu, gpu) to positive numbers"
        )
    concurrent = raw.get("max_concurrent_trials", defaults.max_concurrent_trials)
    if isinstance(concurrent, bool) or not isinstance(concurrent, int) or concurrent <= 0:
        raise ValueError(
            f"{path}: `max_concurrent_trials` must be a positive integer, not {concurrent!r}"
        )
    install = raw.get("install_requirements", defaults.install_requirements)
    if not isinstance(install, bool):
        raise ValueError(f"{path}: `install_requirements` must be true or false, not {install!r}")
    return RaySettings(
        engine=engine,
        address=os.environ.get(RAY_ADDRESS_ENV) or address,
        trial_resources={str(name): float(amount) for name, amount in resources.items()},
        max_concurrent_trials=concurrent,
        install_requirements=install,
    )


def configured_engine() -> str:
    """The engine the search and batch scoring run on: `engine` of configs/compute.yaml, or
    `COMPUTE_ENGINE` for one run."""
    return ray_settings().engine
{%- endblock %}
