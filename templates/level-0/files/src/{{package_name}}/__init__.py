"""{{ description | py_docstring }}"""
{% block telemetry %}{% endblock %}
__version__ = "0.1.0"
