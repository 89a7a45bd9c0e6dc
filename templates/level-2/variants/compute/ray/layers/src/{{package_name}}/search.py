{# compute=ray: the trials run as Ray Tune trials when configs/compute.yaml says `engine: ray`. #}

{% block docstring %}

With `engine: ray` in configs/compute.yaml the trials are Ray Tune trials on the cluster
(`cluster.run_trials`); with `engine: local`, in this process.
{%- endblock %}

{% block runners %}
    if engine == "ray":
        from . import cluster

        runners["ray"] = cluster.run_trials
{%- endblock %}
