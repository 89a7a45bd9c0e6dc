{# Level 2: MLflow stores of the tests' own, and the training pipeline run into them. #}

{% block docstring %}

From level 2, also MLflow tracking stores of each test's own and the training pipeline run into
them.
{% endblock %}

{% block imports_after_os %}
import shutil
from collections.abc import Callable
from dataclasses import replace
{%- endblock %}

{% block imports_after_train %}
from {{ package_name }}.config import EstimatorConfig, TrainConfig, load_config
{%- endblock %}

{% block imports_after_ingest %}
from {{ package_name }}.pipeline import TrainingResult, run
from {{ package_name }}.score import LoadedModel
from {{ package_name }}.tracking import configure
{%- endblock %}

{% block training_fixtures %}


PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def train_config() -> TrainConfig:
    """The project's own configs/train.yaml: the tests train what `make train` trains."""
    return load_config(PROJECT_ROOT / "configs" / "train.yaml")


@pytest.fixture
def worse_config(train_config: TrainConfig) -> TrainConfig:
    """A model that ignores the features and always predicts the {% if is_classification %}most frequent class{% else %}mean{% endif %}."""
    dummy = "sklearn.dummy.{% if is_classification %}DummyClassifier{% else %}DummyRegressor{% endif %}"
    # The dummy has none of the parameters the search tries: it trains without one.
    without_search = replace(train_config.search, trials=0)
    return replace(
        train_config, estimator=EstimatorConfig(dummy, {}, scale=False), search=without_search
    )


@pytest.fixture(scope="session")
def empty_tracking_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database with its tables created. Creating them takes seconds, so it is done
    once; each test that tracks gets a copy."""
    path = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    configure(f"sqlite:///{path}").search_experiments()
    return path


def use_copy_of(database: Path, directory: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Copies `database` into `directory` and points MLFLOW_TRACKING_URI at the copy."""
    copy = directory / "mlflow.db"
    shutil.copyfile(database, copy)
    uri = f"sqlite:///{copy}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture
def tracking_uri(
    tmp_path: Path, empty_tracking_database: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """An empty tracking store of this test's own, in `tmp_path`; also MLFLOW_TRACKING_URI."""
    return use_copy_of(empty_tracking_database, tmp_path, monkeypatch)


@pytest.fixture
def train_candidate(
    tmp_path: Path, tracking_uri: str, train_config: TrainConfig
) -> Callable[..., TrainingResult]:
    """Runs the real pipeline into this test's store: `train_candidate(config)`."""

    def train_candidate(
        config: TrainConfig | None = None, ingest_config: IngestConfig | None = None
    ) -> TrainingResult:
        return run(
            config or train_config,
            ingest_config or IngestConfig(output=tmp_path / "raw" / "dataset.csv"),
            tracking_uri=tracking_uri,
            model_file=tmp_path / "models" / "model.joblib",
            reports=tmp_path / "reports",
        )

    return train_candidate


@pytest.fixture(scope="session")
def trained_store(
    tmp_path_factory: pytest.TempPathFactory,
    empty_tracking_database: Path,
    train_config: TrainConfig,
) -> Path:
    """A database in which the pipeline registered version 1, the candidate: trained once."""
    directory = tmp_path_factory.mktemp("trained")
    database = directory / "mlflow.db"
    shutil.copyfile(empty_tracking_database, database)
    run(
        train_config,
        IngestConfig(output=directory / "raw" / "dataset.csv"),
        tracking_uri=f"sqlite:///{database}",
        model_file=directory / "model.joblib",
        reports=None,
    )
    return database


@pytest.fixture
def trained_tracking_uri(
    tmp_path: Path, trained_store: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A copy of `trained_store` of this test's own, to change as it likes; also
    MLFLOW_TRACKING_URI. (The copy shares the artifacts, which nothing changes.)"""
    return use_copy_of(trained_store, tmp_path, monkeypatch)


@pytest.fixture(scope="session")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The data set, and its rows without the target as three partitions to score: two Parquet
    files in directories of their own and a CSV file."""
    directory = tmp_path_factory.mktemp("partitioned")
    frame = pd.read_csv(ingest(IngestConfig(output=directory / "all" / "dataset.csv")).path)
    rows = frame.drop(columns=["target"])
    root = directory / "input"
    for index, part in enumerate([rows.iloc[:200], rows.iloc[200:400]]):
        (root / f"day={index}").mkdir(parents=True)
        part.to_parquet(root / f"day={index}" / "part-0.parquet", index=False)
    rows.iloc[400:].to_csv(root / "late.csv", index=False)
    return root, frame


@pytest.fixture(scope="session")
def fitted(partitioned: tuple[Path, pd.DataFrame], train_config: TrainConfig) -> LoadedModel:
    """The configured model fitted on every row, as scoring loads it."""
    _, frame = partitioned
    features = list(train_config.features)
    model = train.build_model(train_config.seed, train_config.estimator)
    model.fit(frame[features], frame["target"])
    return LoadedModel("fitted in the tests", model, "0" * 64, features)
{%- endblock %}
