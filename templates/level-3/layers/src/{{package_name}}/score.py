{# Level 3: a model also loads from a bundle directory, what the serving image is built from. #}

{% block docstring %}

A model also comes from a bundle directory, which `make bundle` exports from the registry for the
serving image: the MLflow model of one version in `model/` and, in `release.json`, which version.
{%- endblock %}

{% block imports_after_hashlib %}
import json
{%- endblock %}

{% block constants %}
BUNDLE_MANIFEST = "release.json"
BUNDLE_MODEL = "model"
{%- endblock %}

{% block load_bundle %}


def _load_bundle(directory: Path) -> LoadedModel:
    """A bundle: the MLflow model of one version, exported with the version it is. Its digest is
    the registry's for the same version, so a service reports the same either way."""
    import mlflow.sklearn

    manifest = directory / BUNDLE_MANIFEST
    if not manifest.is_file():
        raise ModelNotFoundError(f"{directory} is not a model bundle: it has no {BUNDLE_MANIFEST}")
    version = str(json.loads(manifest.read_text())["version"])
    model = mlflow.sklearn.load_model(str(directory / BUNDLE_MODEL))
    sha256 = _directory_sha256(directory / BUNDLE_MODEL)
    return LoadedModel(str(directory), model, sha256, _features(model, str(directory)), version)
{%- endblock %}

{% block load_directory %}
    if path.is_dir():
        return _load_bundle(path)
{%- endblock %}

{% block release_hint %}
            "release the candidate with `make release`, or "
{%- endblock %}
