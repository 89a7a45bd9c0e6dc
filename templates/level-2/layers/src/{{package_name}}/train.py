{# Level 2: `make train` runs the tracked pipeline, which reuses `evaluate` from here. #}

{% block docstring %}

From level 2, `make train` runs the tracked pipeline (pipeline.py) instead, which reuses
`evaluate` from here, as the gate does; `python -m {{ package_name }}.train` remains
a quick way to an untracked model file.
{%- endblock %}
