"""The KubeRay manifests of deploy/ray/: the fields the operator requires, and an image and an
entrypoint that match the project (its Ray and Python versions, its pipeline module)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOY = PROJECT_ROOT / "deploy" / "ray"
IMAGE = "{{ project_slug }}-ray:latest"


def manifest(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / name).read_text())


def ray_version() -> str:
    dependencies = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    pins = [re.fullmatch(r"ray\[.*\]==(.+)", dependency) for dependency in dependencies]
    (version,) = [pin.group(1) for pin in pins if pin]
    return version


def check_cluster_spec(spec: dict[str, Any]) -> None:
    assert spec["rayVersion"] == ray_version()
    head = spec["headGroupSpec"]
    assert isinstance(head["rayStartParams"], dict)
    groups = [head["template"]] + [group["template"] for group in spec["workerGroupSpecs"]]
    for template in groups:
        (container,) = template["spec"]["containers"]
        assert container["name"] and container["image"] == IMAGE
        assert container["resources"]["limits"]["cpu"]
    for group in spec["workerGroupSpecs"]:
        assert group["groupName"] and isinstance(group["rayStartParams"], dict)
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


@pytest.mark.parametrize("name", ["raycluster.yaml", "rayjob.yaml"])
def test_manifests_are_kuberay_resources(name: str) -> None:
    resource = manifest(name)
    assert resource["apiVersion"] == "ray.io/v1"
    assert resource["metadata"]["name"].startswith("{{ project_slug }}")
    spec = resource["spec"]
    check_cluster_spec(spec if resource["kind"] == "RayCluster" else spec["rayClusterSpec"])


def test_the_job_runs_the_pipeline_of_the_project_with_a_tracking_server() -> None:
    job = manifest("rayjob.yaml")
    assert job["kind"] == "RayJob"
    command = job["spec"]["entrypoint"].split(" && ")[-1].split()
    assert command[:2] == ["python", "-m"]
    assert importlib.util.find_spec(command[2]) is not None, command
    assert job["spec"]["shutdownAfterJobFinishes"] is True
    (head,) = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"]
    assert "MLFLOW_TRACKING_URI" in {variable["name"] for variable in head["env"]}


def test_the_image_is_ray_at_the_versions_of_the_project() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert base == f"rayproject/ray:{ray_version()}-{{ python_tag }}"
    assert "pip install --no-cache-dir ." in dockerfile
