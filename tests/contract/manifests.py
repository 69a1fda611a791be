"""The Kubernetes manifests as a cluster would get them: each overlay of deploy/k8s, rendered by kustomize."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")

Manifest = dict[str, Any]


def kustomize(directory: Path) -> list[Manifest]:
    # kubectl (with kustomize) is part of this project's machine image.
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to build the manifests"
    result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@functools.cache
def _rendered(overlay: str) -> tuple[Manifest, ...]:
    return tuple(kustomize(K8S / "overlays" / overlay))


def rendered(overlay: str) -> list[Manifest]:
    return list(_rendered(overlay))


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def release_version(manifests: list[Manifest]) -> str:
    version: str = of_kind(manifests, "ConfigMap")["shegong-release"]["data"]["version"]
    return version
