{# compute=ray: the tests search in the process, but for the Ray tests' local cluster. #}

{% block imports_after_os %}
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
{%- endblock %}

{% block training_fixtures %}{{ super() }}


@pytest.fixture(scope="session", autouse=True)
def search_in_the_process() -> Iterator[None]:
    """The pipeline's tests run the search in the process (COMPUTE_ENGINE=local); the Ray tests
    (tests/test_ray.py) name the engine they use."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPUTE_ENGINE", "local")
        yield


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A local Ray cluster of 2 CPUs for the session's Ray tests, stopped after them."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
{%- endblock %}
