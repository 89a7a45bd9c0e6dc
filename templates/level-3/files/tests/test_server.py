"""The server's number of worker processes: `WEB_CONCURRENCY`, else one per CPU it is given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from {{ package_name }}.server import available_cpus, cpu_quota, workers


def cpu_max(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpu.max"
    path.write_text(text)
    return path


def test_a_cgroup_quota_bounds_the_cpus(tmp_path: Path) -> None:
    assert cpu_quota(cpu_max(tmp_path, "150000 100000\n")) == 1.5
    assert cpu_quota(cpu_max(tmp_path, "max 100000\n")) is None
    assert cpu_quota(tmp_path / "missing") is None
    assert available_cpus(cpu_max(tmp_path, "50000 100000\n")) == 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cpus(cpu_max(tmp_path, "max 100000\n")) == cores
    assert available_cpus(cpu_max(tmp_path, "100000000 100000\n")) == cores


def test_web_concurrency_sets_the_workers_else_one_per_cpu(tmp_path: Path) -> None:
    quota = cpu_max(tmp_path, "150000 100000\n")
    assert workers({"WEB_CONCURRENCY": "3"}, quota) == 3
    assert workers({}, quota) == min(2, available_cpus(tmp_path / "missing"))
    assert workers({"WEB_CONCURRENCY": " "}, quota) == workers({}, quota)


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_a_bad_number_of_workers_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="WEB_CONCURRENCY"):
        workers({"WEB_CONCURRENCY": text})
