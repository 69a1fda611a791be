"""docker-compose.yml and the Kubernetes manifests name only services, ports and settings that exist.

No Docker engine runs here, so the files are checked against the code: every ``SHEGONG_<SERVICE>_<KEY>``
variable must be a field of that service's settings, every command a real entry point, every
upstream URL a service of the file on its configured port.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from shared.migrations import SERVICE_NAMES, settings_for

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORTS = {name: settings_for(name).port for name in SERVICE_NAMES}


def check_env(env: dict[str, str], service: str | None) -> None:
    """Each variable is a known setting; with ``service`` given, all belong to that service."""
    for key, value in env.items():
        assert key.startswith("SHEGONG_"), key
        owner = key.split("_")[1].lower()
        assert owner in SERVICE_NAMES, key
        if service is not None:
            assert owner == service, f"{key} given to {service}"
        field = key[len(f"SHEGONG_{owner.upper()}_") :].lower()
        fields = type(settings_for(owner)).model_fields
        assert field in fields, f"{key}: no setting {field!r} in services/{owner}/settings.py"
        if value.startswith("${"):
            continue  # supplied by the operator's environment
        if field == "database_url":
            assert value.startswith("postgresql+asyncpg://"), key
        if field.endswith("_url") and field != "database_url":
            target = "gateway" if field in ("jwks_url", "token_url") else field.removesuffix("_url")
            parts = urlsplit(value)
            assert parts.hostname == target, key
            assert parts.port == DEFAULT_PORTS[target], key


def serve_command(command: list[str]) -> str:
    assert command[:3] == ["python", "-m", "shared.serve"], command
    assert command[3] in SERVICE_NAMES
    return command[3]


def test_compose_services_commands_ports_and_settings() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", *SERVICE_NAMES}
    assert (ROOT / services["gateway"]["build"]["dockerfile"]).exists()
    assert services["migrate"]["command"] == ["python", "-m", "shared.migrations", "upgrade", "all"]
    check_env(services["migrate"]["environment"], None)
    assert {k.split("_")[1].lower() for k in services["migrate"]["environment"]} == set(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        spec = services[name]
        assert serve_command(spec["command"]) == name
        env = spec["environment"]
        check_env(env, name)
        assert int(env[f"SHEGONG_{name.upper()}_PORT"]) == DEFAULT_PORTS[name]
        assert urlsplit(env[f"SHEGONG_{name.upper()}_DATABASE_URL"]).hostname == "postgres"
        assert str(DEFAULT_PORTS[name]) in " ".join(spec["healthcheck"]["test"])
        if name != "gateway":
            assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["gateway"]["ports"] == ["127.0.0.1:8000:8000"]
    assert set(services["gateway"]["depends_on"]) == {"roster", "compensation", "evaluation"}


def kubernetes_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((ROOT / "deploy/k8s/kustomization.yaml").read_text())
    documents: list[dict[str, Any]] = []
    for resource in kustomization["resources"]:
        documents.extend(d for d in yaml.safe_load_all((ROOT / "deploy/k8s" / resource).read_text()) if d)
    return documents


def container_env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "postgresql+asyncpg://from-secret") for e in container.get("env", [])}


def test_kubernetes_deployments_services_and_probes() -> None:
    documents = kubernetes_documents()
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Service"}
    assert set(deployments) == set(services) == set(SERVICE_NAMES)
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert serve_command(container["command"]) == name
        check_env(container_env(container), name)
        port = container["ports"][0]["containerPort"]
        assert port == DEFAULT_PORTS[name] == services[name]["spec"]["ports"][0]["port"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == ("/livez" if name == "gateway" else "/healthz")
    (job,) = [d for d in documents if d["kind"] == "Job"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["python", "-m", "shared.migrations", "upgrade", "all"]
    check_env(container_env(migrate), None)


def test_kustomize_builds() -> None:
    # kubectl (with kustomize) is part of this project's machine image.
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to build the manifests"
    result = subprocess.run([kubectl, "kustomize", str(ROOT / "deploy/k8s")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("kind: Deployment") == len(SERVICE_NAMES)
