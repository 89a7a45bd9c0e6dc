{# Level 3: the applications of the tests log in the test's own directory, with no challenger. #}

{% block docstring %}{{ super() }}
From level 3, every application a test starts logs its predictions and labels in the test's own
directory, serves no challenger unless the test gives it one, and takes writes as `make serve`
does: bound to loopback, with no token set.
{% endblock %}

{% block serving_fixtures %}


@pytest.fixture(autouse=True)
def serving_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the applications of this test log (never logs/), with no challenger by default, bound
    to loopback as `make serve` is (so writes need no token) and with no token set."""
    directory = tmp_path / "logs"
    monkeypatch.setenv("PREDICTION_LOG", str(directory / "predictions.jsonl"))
    monkeypatch.setenv("FEEDBACK_LOG", str(directory / "feedback.jsonl"))
    monkeypatch.setenv("CHALLENGER_URI", "")
    monkeypatch.setenv("UVICORN_HOST", "127.0.0.1")
    for token in ("FEEDBACK_TOKEN", "RELOAD_TOKEN"):
        monkeypatch.delenv(token, raising=False)
    return directory


@pytest.fixture(scope="session")
def challenger_path(tmp_path_factory: pytest.TempPathFactory, dataset: pd.DataFrame) -> Path:
    """A second model file, trained on another split: a challenger to the model under test."""
    path = tmp_path_factory.mktemp("challenger") / "model.joblib"
    train.train(dataset, path, seed=7)
    return path
{%- endblock %}
