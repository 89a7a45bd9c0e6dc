"""The `kubernetes` target: an extension point, not an implementation.

Selecting it (`staging.target: kubernetes` in configs/deploy.yaml) stops the release with a
configuration error rather than pretending to deploy. To implement it, give `KubernetesTarget`
the `Target` methods of deploy/__init__.py, for example:

- `deploy`: set the image of a staging Deployment to the version's serving image
  (`kubectl set image deployment/<name> app=<image>`), wait for `kubectl rollout status`, and
  return the URL of its Service or Ingress;
- `status`: the rollout's state and what the service's `/version` says (`probe`);
- `rollback`: `kubectl rollout undo deployment/<name>`.

A long-lived staging environment is not `ephemeral`: the release leaves it running after the
tests pass. Then remove the error below and read the cluster's settings from configs/deploy.yaml.
"""

from __future__ import annotations

from . import Bundle, Deployment, Status, TargetNotConfigured

GUIDE = (
    "the kubernetes target is an extension point, not an implementation: implement deploy, "
    "status and rollback in src/{{ package_name }}/deploy/kubernetes.py, "
    "or choose `local` or `docker` as `staging.target` in configs/deploy.yaml"
)


class KubernetesTarget:
    name = "kubernetes"
    ephemeral = False

    def __init__(self) -> None:
        raise TargetNotConfigured(GUIDE)

    def deploy(self, bundle: Bundle, environment: str) -> Deployment:
        raise NotImplementedError(GUIDE)

    def status(self, deployment: Deployment) -> Status:
        raise NotImplementedError(GUIDE)

    def rollback(self, deployment: Deployment) -> None:
        raise NotImplementedError(GUIDE)
