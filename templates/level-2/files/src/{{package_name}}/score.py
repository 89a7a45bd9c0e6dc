"""Scoring: load a model and predict, for the application and for batch jobs alike.

A model comes from a file (`models/model.joblib`) or from the MLflow registry by URI, such as
`models:/{{ package_name }}@champion` or
`models:/{{ package_name }}/3`; either way it is a fitted scikit-learn pipeline that
records its feature names. The application (app.py) serves through `load_model` and `predict`;
batch scoring is

    python -m {{ package_name }}.score --input data.csv --output out.csv

(`--model URI` picks another model), which keeps the input's columns (an id, say) and adds
`prediction`{% if is_classification %} and `probability`{% endif %}.
{%- block docstring %}{% endblock %}
"""

from __future__ import annotations

import argparse
import hashlib
{%- block imports_after_hashlib %}{% endblock %}
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# pandas and joblib are imported where they are used, as MLflow is: commands that import this
# module for its constants alone (release.py's) start at once.
if TYPE_CHECKING:
    import pandas as pd

MODEL_URI_ENV = "MODEL_URI"
DEFAULT_MODEL_URI = "models:/{{ package_name }}@champion"
REGISTRY_SCHEMES = ("models:/", "runs:/")
{%- block constants %}{% endblock %}

logger = logging.getLogger(__name__)


class ModelNotFoundError(LookupError):
    """There is no model at the source: no such file, version or alias."""


class SchemaError(ValueError):
    """The rows to score lack some of the model's features."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"missing features: {', '.join(missing)}")


@dataclass(frozen=True)
class LoadedModel:
    source: str
    model: Any
    sha256: str
    features: list[str]
    version: str | None = None


@dataclass(frozen=True)
class Predictions:
{%- if is_classification %}
    predictions: list[int]
    probabilities: list[float]
{%- else %}
    predictions: list[float]
{%- endif %}


def is_registry_uri(source: str | Path) -> bool:
    return str(source).startswith(REGISTRY_SCHEMES)


def _features(model: Any, source: str) -> list[str]:
    features = [str(name) for name in getattr(model, "feature_names_in_", [])]
    if not features:
        raise ValueError(f"{source}: the model does not record its feature names")
    return features


def _directory_sha256(directory: Path) -> str:
    """One digest of every file of a model directory, names included."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _resolve(client: Any, uri: str) -> tuple[str, str | None]:
    """The URI to download and the registry version it names. An alias is resolved once, so the
    version reported is the version loaded even if the alias moves meanwhile."""
    if not uri.startswith("models:/"):
        return uri, None
    reference = uri.removeprefix("models:/")
    name, at, alias = reference.partition("@")
    if at:
        version = str(client.get_model_version_by_alias(name, alias).version)
        return f"models:/{name}/{version}", version
    _, _, version = reference.partition("/")
    return uri, version if version.isdigit() else None


def _hint(uri: str) -> str:
    """What to run when `uri` names no model yet."""
    if uri.endswith("@champion"):
        return (
            "; no version is the champion yet: "
{%- block release_hint %}{% endblock %}
            "promote one that passed the gate with "
            "`make promote VERSION=N` (`make models` lists them)"
        )
    return "; `make models` lists the registered versions and their aliases"


def _load_from_registry(uri: str) -> LoadedModel:
    # MLflow is imported here, not at the top: a service that serves a model file starts in a
    # fraction of the time MLflow takes to import.
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    from . import tracking

    client = tracking.configure()
    try:
        resolved, version = _resolve(client, uri)
        with tempfile.TemporaryDirectory() as directory:
            local = mlflow.artifacts.download_artifacts(artifact_uri=resolved, dst_path=directory)
            model = mlflow.sklearn.load_model(local)
            sha256 = _directory_sha256(Path(local))
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            message = f"no model at {uri}: {error.message.rstrip('.')}{_hint(uri)}"
            raise ModelNotFoundError(message) from None
        raise
    return LoadedModel(uri, model, sha256, _features(model, uri), version)
{%- block load_bundle %}{% endblock %}


def load_model(source: str | Path) -> LoadedModel:
    """The model at `source`: a registry URI (`models:/...`, `runs:/...`) or a model file."""
    if is_registry_uri(source):
        return _load_from_registry(str(source))
    path = Path(source)
{%- block load_directory %}{% endblock %}
    if not path.is_file():
        raise ModelNotFoundError(f"no model file at {path}")
    import joblib

    model = joblib.load(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedModel(str(path), model, sha256, _features(model, str(path)))


def load_available_model(source: str | Path) -> LoadedModel | None:
    """`load_model`, or `None` when there is no model there yet, so a service can start and report
    that it is not ready instead of failing."""
    try:
        return load_model(source)
    except ModelNotFoundError as error:
        logger.warning("%s", error)
        return None


def missing_features(columns: list[str], model: LoadedModel) -> list[str]:
    present = set(columns)
    return [name for name in model.features if name not in present]


def predict(model: LoadedModel, frame: pd.DataFrame) -> Predictions:
    """A prediction per row of `frame`, which needs every feature; other columns are ignored."""
    missing = missing_features(list(frame.columns), model)
    if missing:
        raise SchemaError(missing)
    # Selecting the columns copies the frame, a tenth of a one-row request's time: skip it when
    # they are already the model's, in its order, as the application builds them.
    features = frame if list(frame.columns) == model.features else frame[model.features]
    predictions = model.model.predict(features)
{%- if is_classification %}
    probabilities = model.model.predict_proba(features)[:, 1]
    return Predictions(
        predictions=[int(value) for value in predictions],
        probabilities=[float(value) for value in probabilities],
    )
{%- else %}
    return Predictions(predictions=[float(value) for value in predictions])
{%- endif %}


def score_frame(model: LoadedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the model's `prediction`{% if is_classification %} and `probability`{% endif %} for each row."""
    scored = predict(model, frame)
    result = frame.copy()
    result["prediction"] = scored.predictions
{%- if is_classification %}
    result["probability"] = scored.probabilities
{%- endif %}
    return result


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """`--model`: the model `make score` and `make score-batch` load."""
    parser.add_argument(
        "--model",
        default=os.environ.get(MODEL_URI_ENV) or DEFAULT_MODEL_URI,
        help=f"registry URI or model file (default: ${MODEL_URI_ENV}, else {DEFAULT_MODEL_URI})",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a CSV file of rows with a model.")
    add_model_argument(parser)
    parser.add_argument("--input", type=Path, required=True, help="CSV file of rows to score")
    parser.add_argument("--output", type=Path, required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    import pandas as pd

    try:
        model = load_model(args.model)
        scored = score_frame(model, pd.read_csv(args.input))
    except (ModelNotFoundError, SchemaError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    scored.to_csv(args.output, index=False)
    used = f"{model.source} (version {model.version})" if model.version else model.source
    print(f"scored {len(scored)} rows of {args.input} with {used} into {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
