{# Level 1: training reads the data `make ingest` gathered, and its model goes to the application. #}

{% block how_it_runs -%}
Run by hand (`make train`): it loads the data that `make ingest` gathered, fits the model, prints
its metrics and writes `models/model.joblib`, the file that is handed over to the application.
{%- endblock %}

{% block datasets_import %}{% endblock %}

{% block package_imports %}
from .data.ingest import TARGET, load_dataset
{% endblock %}

{% block target %}{% endblock %}

{% block load_data %}
    """The raw data gathered by the ingest step (run first if it has not been)."""
    return load_dataset()
{%- endblock %}
