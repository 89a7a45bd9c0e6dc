"""A/B serving: which model answers a request, configured in `configs/serving.yaml`.

The application serves the champion and, when one is configured and loads, a challenger. `Router`
sends a share of the traffic to the challenger, and the assignment is sticky: the request's key
(a user id, say) is hashed with a salt into a number between 0 and 1, and the keys below the
challenger's share get the challenger, whatever replica answers and however often they come back.
A request without a key gets a random one, so it is assigned at random in the same proportion.

Every value of the file can be overridden by an environment variable (`CHALLENGER_URI`,
`CHALLENGER_SHARE`, `PREDICTION_LOG`, `FEEDBACK_LOG`), which is how a deployment pins what it
serves: a staging deployment sets `CHALLENGER_URI=` to test one model alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import score
from .score import LoadedModel

CONFIG_ENV = "SERVING_CONFIG"
DEFAULT_CONFIG = Path("configs/serving.yaml")
CHAMPION = "champion"
CHALLENGER = "challenger"
KEYS = {"challenger", "salt", "prediction_log", "feedback_log"}
CHALLENGER_KEYS = {"model", "share"}
ENVIRONMENT = {
    "challenger": "CHALLENGER_URI",
    "share": "CHALLENGER_SHARE",
    "prediction_log": "PREDICTION_LOG",
    "feedback_log": "FEEDBACK_LOG",
}

logger = logging.getLogger(__name__)


class ServingConfigError(ValueError):
    """The serving configuration cannot be used as it is."""


@dataclass(frozen=True)
class ServingConfig:
    challenger: str | None = None
    challenger_share: float = 0.0
    salt: str = "{{ package_name }}-ab-1"
    prediction_log: Path | None = Path("logs/predictions.jsonl")
    feedback_log: Path | None = Path("logs/feedback.jsonl")


@dataclass(frozen=True)
class Assignment:
    variant: str
    key: str


def _share(value: object, where: str) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ServingConfigError(f"{where} must be a number from 0 to 1, not {value!r}")
    return float(value)


def _optional(value: object) -> str | None:
    """Empty or `none` means "not set"."""
    text = "" if value is None else str(value).strip()
    return None if text.lower() in {"", "none", "null"} else text


def load_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> ServingConfig:
    """Reads the serving configuration (`SERVING_CONFIG`, default configs/serving.yaml; defaults
    if it does not exist), then applies the environment's overrides."""
    path = path or Path(environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    raw = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    if not isinstance(raw, dict) or set(raw) - KEYS:
        raise ServingConfigError(f"{path}: expected a mapping of {sorted(KEYS)}")
    challenger = raw.get("challenger") or {}
    if not isinstance(challenger, dict) or set(challenger) - CHALLENGER_KEYS:
        raise ServingConfigError(f"{path}: `challenger` takes {sorted(CHALLENGER_KEYS)}")
    defaults = ServingConfig()

    def setting(key: str, value: object) -> object:
        name = ENVIRONMENT[key]
        return environ.get(name, value)

    share = setting("share", challenger.get("share", defaults.challenger_share))
    logs = {
        key: _optional(setting(key, raw.get(key, getattr(defaults, key))))
        for key in ("prediction_log", "feedback_log")
    }
    return ServingConfig(
        challenger=_optional(setting("challenger", challenger.get("model"))),
        challenger_share=_share(share, f"{path}: `challenger.share`"),
        salt=str(raw.get("salt", defaults.salt)),
        prediction_log=Path(logs["prediction_log"]) if logs["prediction_log"] else None,
        feedback_log=Path(logs["feedback_log"]) if logs["feedback_log"] else None,
    )


def bucket(salt: str, key: str) -> float:
    """Where `key` falls between 0 and 1: uniform over keys, the same for the same key and salt."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class Router:
    """Assigns each request to the champion or the challenger, sticky by key."""

    def __init__(self, challenger_share: float, salt: str) -> None:
        self.challenger_share = _share(challenger_share, "the challenger's share")
        self.salt = salt

    def assign(self, key: str | None = None) -> Assignment:
        key = key or uuid.uuid4().hex
        below = bucket(self.salt, key) < self.challenger_share
        return Assignment(CHALLENGER if below else CHAMPION, key)


def load_challenger(source: str | None, champion: LoadedModel | None) -> LoadedModel | None:
    """The challenger at `source`, or `None` (with a warning) when there is nothing to compare:
    no source or no model there, one that cannot be loaded, no champion, the champion itself, or
    a model that takes other features than the champion (it would refuse what the champion
    accepts)."""
    if source is None or champion is None:
        return None
    try:
        challenger = score.load_available_model(source)
    except Exception:
        # The challenger is optional: whatever stops it loading (an unreachable registry, say)
        # leaves the champion serving alone rather than the service down.
        logger.warning("the challenger %s cannot be loaded: no A/B", source, exc_info=True)
        return None
    if challenger is None:
        return None
    same_version = challenger.version is not None and challenger.version == champion.version
    if same_version or challenger.sha256 == champion.sha256:
        logger.warning("the challenger %s is the champion: no A/B", source)
        return None
    if set(challenger.features) != set(champion.features):
        logger.warning("the challenger %s takes other features than the champion: no A/B", source)
        return None
    return challenger
