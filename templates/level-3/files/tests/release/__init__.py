"""Release tests: run against a deployed service (see conftest.py)."""
