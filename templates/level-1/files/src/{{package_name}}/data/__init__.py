"""Gathering and reading the project's data."""
