"""deploy/k8s as an operator would read it, checked offline on what ``kubectl kustomize`` renders of each overlay.

Every manifest validates against the Kubernetes JSON schemas (kubernetes-validate, strict: no unknown
field) and every CloudNativePG resource against the CRD's schema (@kubernetes-models/cloudnative-pg, npm,
with a strict TypeScript check for unknown fields). Each Deployment has its probes on paths the service
serves, requests and limits, an HPA, a PDB and NetworkPolicies; the policies allow exactly the calls the
code makes (derived here from each service's ``*_url`` settings) and each service's database only to it;
every command is a module of the code, every variable a setting (that parses), every Secret one that
docs/operations.md tells the operator to create; a release's version names its Jobs and tags its images.
"""

from __future__ import annotations

import base64
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest

from services.gateway import bootstrap
from services.gateway.settings import Settings as GatewaySettings
from shared.migrations import SERVICE_NAMES, settings_for
from tests.contract.manifests import (
    K8S,
    OVERLAYS,
    ROOT,
    Manifest,
    containers,
    kustomize,
    of_kind,
    pod_spec,
    release_version,
    rendered,
)

CLIENTS = ROOT / "clients"
NAMESPACE = "shegong"
PORTS = {name: settings_for(name).port for name in SERVICE_NAMES}
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")  # the oldest with the preStop sleep action; the newest shipped
CNPG_KINDS = ("Cluster", "ScheduledBackup")
WORKLOADS = ("Deployment", "Job")
NOT_URLS = ("database_url", "database_read_url")


# --- schemas ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schemas(overlay: str, version: str) -> None:
    kinds = set()
    for manifest in rendered(overlay):
        if manifest["apiVersion"].startswith("postgresql.cnpg.io/"):
            continue  # a custom resource: the next test
        kinds.add(manifest["kind"])
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']}: {error.path}: {error.message}")
    assert {
        "Namespace",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "Job",
        "ConfigMap",
    } <= kinds


def test_a_schema_violation_is_caught() -> None:
    """The validation above is not vacuous: an unknown field and a wrong type are refused."""
    deployment = json.loads(json.dumps(of_kind(rendered("production"), "Deployment")["roster"]))
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    cluster = json.loads(json.dumps(of_kind(rendered("production"), "Cluster")["roster-db"]))
    cluster["spec"]["instances"] = "three"
    cluster["spec"]["postgresql"]["synchronous"]["numbr"] = 1
    (ajv,) = cnpg_schema_errors([cluster])
    assert ajv["error"]
    assert "instances" in ajv["error"]
    assert "numbr" in cnpg_unknown_fields([cluster])


def cnpg_schema_errors(manifests: list[Manifest]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "Node.js is needed (make install runs npm ci in clients/)"
    result = subprocess.run(
        [node, str(CLIENTS / "cnpg-validate.mjs")],
        input=json.dumps(manifests),
        capture_output=True,
        text=True,
        check=False,
        cwd=CLIENTS,
    )
    assert result.returncode == 0, result.stderr
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


def cnpg_unknown_fields(manifests: list[Manifest]) -> str:
    """tsc's excess-property check of each manifest as an object literal of the CRD's type ("" when clean)."""
    cache = CLIENTS / "node_modules" / ".cache"  # inside clients/: tsc resolves the models from there
    cache.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="shegong-cnpg-", dir=cache))
    lines = [
        f'import type {{ I{kind} }} from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/{kind}";'
        for kind in CNPG_KINDS
    ]
    lines += [f"export const m{i}: I{m['kind']} = {json.dumps(m)};" for i, m in enumerate(manifests)]
    (folder / "manifests.ts").write_text("\n".join(lines) + "\n")
    options = {"strict": True, "noEmit": True, "target": "es2022", "module": "esnext", "moduleResolution": "bundler"}
    options |= {"skipLibCheck": True, "types": []}
    (folder / "tsconfig.json").write_text(json.dumps({"compilerOptions": options, "files": ["manifests.ts"]}))
    result = subprocess.run(
        [str(CLIENTS / "node_modules" / ".bin" / "tsc"), "-p", str(folder / "tsconfig.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(folder)
    return "" if result.returncode == 0 else result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cloudnativepg_resources_validate_against_the_crd(overlay: str) -> None:
    manifests = [m for m in rendered(overlay) if m["apiVersion"].startswith("postgresql.cnpg.io/")]
    assert {m["kind"] for m in manifests} <= set(CNPG_KINDS)
    assert len(of_kind(manifests, "Cluster")) == len(SERVICE_NAMES)
    failures = [a for a in cnpg_schema_errors(manifests) if a["error"] is not None]
    assert failures == []
    assert cnpg_unknown_fields(manifests) == ""


# --- workloads -------------------------------------------------------------------------------------------


def probe_paths(service: str) -> set[str]:
    paths = json.loads((ROOT / "services" / service / "openapi.json").read_text())["paths"]
    return {p for p in paths if p in ("/healthz", "/livez", "/readyz")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_has_probes_resources_hpa_pdb_and_policies(overlay: str) -> None:
    manifests = rendered(overlay)
    deployments = of_kind(manifests, "Deployment")
    hpas, pdbs, services = (
        of_kind(manifests, k) for k in ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Service")
    )
    assert set(deployments) == set(hpas) == set(pdbs) == set(services) == set(SERVICE_NAMES)
    for name, deployment in deployments.items():
        (container,) = pod_spec(deployment)["containers"]
        liveness = "/livez" if name == "gateway" else "/healthz"  # the gateway's /healthz is the whole suite's
        assert container["livenessProbe"]["httpGet"]["path"] == liveness
        assert container["startupProbe"]["httpGet"]["path"] == liveness
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # database at head, sign-in, feeds
        assert {liveness, "/readyz"} <= probe_paths(name)
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] == "http"
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[name]}]
        assert services[name]["spec"]["ports"][0]["port"] == PORTS[name]
        assert services[name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"])
        assert {"cpu", "memory"} <= set(resources["limits"])
        hpa = hpas[name]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert "replicas" not in deployment["spec"], "the HPA owns the count; an apply must not reset it"
        assert hpa["metrics"][0]["resource"]["name"] == "cpu"
        pdb = pdbs[name]["spec"]
        assert pdb["selector"] == deployment["spec"]["selector"]
        assert pdb.get("minAvailable", 0) < hpa["minReplicas"] or "maxUnavailable" in pdb  # a node can be drained
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        kinds = {p["metadata"]["name"] for p in policies_selecting(manifests, labels)}
        assert {f"{name}-ingress", f"{name}-egress", "default-deny"} <= kinds
    if overlay == "production":
        assert all(h["spec"]["minReplicas"] >= 2 for h in hpas.values())  # survives a node
        assert all(p["spec"]["minAvailable"] >= 1 for p in pdbs.values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_unprivileged(overlay: str) -> None:
    for kind in WORKLOADS:
        for name, workload in of_kind(rendered(overlay), kind).items():
            spec = pod_spec(workload)
            assert spec["securityContext"]["runAsNonRoot"] is True, name
            assert spec["automountServiceAccountToken"] is False, name
            for container in containers(workload):
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, name
                assert context["readOnlyRootFilesystem"] is True, name
                assert context["capabilities"]["drop"] == ["ALL"], name
                assert "limits" in container["resources"], name


# --- commands, settings, secrets -------------------------------------------------------------------------


def module_of(command: list[str]) -> str:
    assert command[:2] == ["python", "-m"], command
    module = command[2]
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"no module {module}"
    assert spec.origin, f"no module {module}"
    assert "def main(" in Path(spec.origin).read_text(), f"{module} has no main()"
    return module


def owner_of(workload: Manifest, container: dict[str, Any]) -> str:
    """The service a container belongs to: what its command names (serve, migrate) or the gateway (bootstrap)."""
    command = container["command"]
    module = module_of(command)
    if module == "shared.serve":
        assert command[3:] == [workload["metadata"]["name"]], command
        return str(command[3])
    if module == "shared.migrations":
        assert command[3] == "upgrade", command
        assert command[4] in SERVICE_NAMES, command
        return str(command[4])
    assert module == "services.gateway.bootstrap", command
    (data,) = command[3:]
    assert data in {m["mountPath"] for m in container["volumeMounts"]}, "the bootstrap's data folder is a volume"
    return "gateway"


def bootstrap_reads(name: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """``name`` is a variable services/gateway/bootstrap.py reads."""
    if name == "SHEGONG_BOOTSTRAP_ADMIN_PASSWORD":
        return f'"{name}"' in inspect.getsource(bootstrap)
    service = name.removeprefix("SHEGONG_BOOTSTRAP_").removesuffix("_CLIENT_SECRET").lower()
    monkeypatch.setenv(name, "given")
    return service in bootstrap.SERVICE_CLIENTS and bootstrap.given_client_secret(service) == "given"


# What a Secret's value looks like where the setting checks its form (a Fernet key: 32 bytes, url-safe base64).
SECRET_VALUES = {"webhook_secret_keys": base64.urlsafe_b64encode(b"k" * 32).decode()}


@dataclass
class Secrets:
    """The Secrets docs/operations.md tells the operator to create: name -> keys."""

    keys: dict[str, set[str]]

    @classmethod
    def documented(cls) -> Secrets:
        text = (ROOT / "docs" / "operations.md").read_text().replace("\\\n", " ")  # continued lines
        keys: dict[str, set[str]] = {}
        for command in re.findall(r"kubectl -n shegong create secret (?:generic|tls) [^\n]*", text):
            name = command.split()[6]
            found = set(re.findall(r"--from-(?:literal|file)=([\w.-]+)=", command))
            if " tls " in command:
                found |= {"tls.crt", "tls.key"}
            keys.setdefault(name, set()).update(found)
        return cls(keys)

    def check(self, name: str, key: str | None, clusters: set[str]) -> None:
        if name.endswith("-app") and name.removesuffix("-app") in clusters:
            assert key in {"username", "password", "uri", "host", "dbname"}, (name, key)
            return  # made by CloudNativePG for the cluster's owner
        assert name in self.keys, f"Secret {name} is not among docs/operations.md's kubectl create secret lines"
        if key is not None:
            assert key in self.keys[name], f"Secret {name} key {key} is not documented"


def env_of(container: dict[str, Any]) -> Iterator[tuple[str, str | None, dict[str, Any] | None]]:
    for variable in container.get("env", []):
        source = variable.get("valueFrom", {}).get("secretKeyRef")
        yield variable["name"], variable.get("value"), source


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_commands_variables_and_secrets_exist(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    manifests = rendered(overlay)
    services = {name: s["spec"]["ports"][0]["port"] for name, s in of_kind(manifests, "Service").items()}
    clusters = of_kind(manifests, "Cluster")
    secrets = Secrets.documented()
    for kind in WORKLOADS:
        for workload in of_kind(manifests, kind).values():
            for container in containers(workload):
                owner = owner_of(workload, container)
                prefix = f"SHEGONG_{owner.upper()}_"
                fields = type(settings_for(owner)).model_fields
                values: dict[str, object] = {}
                for name, value, secret in env_of(container):
                    if secret is not None:
                        secrets.check(secret["name"], secret["key"], set(clusters))
                    if name == "PGPASSWORD":  # libpq's, read by asyncpg: the owner's password of its database
                        assert secret == {"name": f"{owner}-db-app", "key": "password"}, (owner, secret)
                        continue
                    if name.startswith("SHEGONG_BOOTSTRAP_"):
                        assert owner == "gateway", name
                        assert bootstrap_reads(name, monkeypatch), name
                        assert secret is not None, f"{name} comes from a Secret"
                        continue
                    assert name.startswith(prefix), f"{name} given to {owner}"
                    field = name.removeprefix(prefix).lower()
                    assert field in fields, f"{name}: no setting {field!r} in services/{owner}/settings.py"
                    if secret is not None:
                        values[field] = SECRET_VALUES.get(field, "from-a-secret-" + "x" * 32)
                        continue
                    assert value is not None, name
                    values[field] = value
                    parts = urlsplit(value)
                    if field == "database_url":
                        assert value.startswith("postgresql+asyncpg://"), name
                        assert parts.password is None, f"{name}: the password comes from a Secret"
                        assert parts.hostname == f"{owner}-db-rw", value
                        assert f"{owner}-db" in clusters, value
                    elif field == "database_read_url":
                        assert parts.hostname == f"{owner}-db-ro", value
                        assert parts.password is None, f"{name}: the password comes from a Secret"
                        assert clusters[f"{owner}-db"]["spec"]["instances"] > 1, "-ro needs a standby"
                    elif field.endswith("_url"):
                        target = "gateway" if field in ("jwks_url", "token_url") else field.removesuffix("_url")
                        assert (parts.hostname, parts.port) == (target, services[target]), name
                # The values parse as the service's settings (production checks included).
                type(settings_for(owner)).model_validate(values)
            for volume in pod_spec(workload).get("volumes", []):
                if "secret" in volume:
                    secrets.check(volume["secret"]["secretName"], None, set(clusters))
    for ingress in of_kind(manifests, "Ingress").values():
        for tls in ingress["spec"]["tls"]:
            secrets.check(tls["secretName"], "tls.crt", set(clusters))
    for cluster in clusters.values():
        store = cluster["spec"].get("backup", {}).get("barmanObjectStore")
        if store:
            for ref in store["s3Credentials"].values():
                secrets.check(ref["name"], ref["key"], set(clusters))
    assert not of_kind(manifests, "Secret"), "no Secret in the repository: the operator creates them"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_believes_forwarded_addresses_only_from_the_ingress_controller(overlay: str) -> None:
    (gateway,) = pod_spec(of_kind(rendered(overlay), "Deployment")["gateway"])["containers"]
    env = {name: value for name, value, _ in env_of(gateway)}
    settings = GatewaySettings.model_validate(
        {"trusted_proxies": env["SHEGONG_GATEWAY_TRUSTED_PROXIES"], "signing_keys_dir": "/keys"}
    )
    assert settings.trusted_proxies, "the ingress controller's addresses are set"
    ingress = of_kind(rendered(overlay), "Ingress")["gateway"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]


# --- releases --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_release_version_names_the_jobs_and_tags_the_images(overlay: str) -> None:
    manifests = rendered(overlay)
    version = release_version(manifests)
    assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", version), "a name, a tag and a label"
    jobs = of_kind(manifests, "Job")
    assert set(jobs) == {f"migrate-{s}-{version}" for s in SERVICE_NAMES} | {f"bootstrap-gateway-{version}"}
    for kind in WORKLOADS:
        for workload in of_kind(manifests, kind).values():
            assert workload["metadata"]["labels"]["app.kubernetes.io/version"] == version
            assert workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == version
            for container in containers(workload):
                assert container["image"].rsplit(":", 1)[1] == version
    for service in SERVICE_NAMES:
        (migrate,) = pod_spec(jobs[f"migrate-{service}-{version}"])["containers"]
        assert migrate["command"] == ["python", "-m", "shared.migrations", "upgrade", service]
        names = {name for name, _, _ in env_of(migrate)}
        assert names == {"PGPASSWORD", f"SHEGONG_{service.upper()}_DATABASE_URL"}  # its own database only


def test_a_new_release_is_a_new_job(tmp_path: Path) -> None:
    """Two versions render two sets of Jobs (a Job's template is immutable) and nothing else changes name."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    kustomization = copy / "overlays" / "production" / "kustomization.yaml"
    text = kustomization.read_text()
    current = release_version(rendered("production"))
    assert text.count(f"version={current}") == 1, "the overlay names its version once"
    kustomization.write_text(text.replace(f"version={current}", "version=0.2.0"))
    before, after = rendered("production"), kustomize(copy / "overlays" / "production")

    def names(manifests: list[Manifest], kind: str) -> set[str]:
        return {m["metadata"]["name"] for m in manifests if m["kind"] == kind}

    assert names(after, "Job") == {n.replace(current, "0.2.0") for n in names(before, "Job")}
    assert not names(after, "Job") & names(before, "Job")
    for kind in ("Deployment", "Service", "Cluster", "NetworkPolicy"):
        assert names(after, kind) == names(before, kind)
    images = {c["image"] for d in of_kind(after, "Deployment").values() for c in containers(d)}
    assert images == {"registry.example.gov.cn/shegong/shegong:0.2.0"}


# --- databases -------------------------------------------------------------------------------------------


def test_production_databases_survive_a_node_and_are_backed_up() -> None:
    manifests = rendered("production")
    clusters = of_kind(manifests, "Cluster")
    backups = of_kind(manifests, "ScheduledBackup")
    assert set(clusters) == {f"{s}-db" for s in SERVICE_NAMES}
    for name, cluster in clusters.items():
        spec = cluster["spec"]
        assert spec["instances"] >= 3
        synchronous = spec["postgresql"]["synchronous"]
        assert synchronous["number"] >= 1
        assert synchronous["dataDurability"] == "required"
        assert spec["affinity"]["podAntiAffinityType"] == "required"
        assert spec["affinity"]["topologyKey"] == "kubernetes.io/hostname"
        store = spec["backup"]["barmanObjectStore"]
        assert store["destinationPath"].endswith("/" + name.removesuffix("-db"))  # one prefix per database
        assert set(store["s3Credentials"]) == {"accessKeyId", "secretAccessKey"}
        assert spec["backup"]["retentionPolicy"]
        (backup,) = [b for b in backups.values() if b["spec"]["cluster"]["name"] == name]
        assert backup["spec"]["method"] == "barmanObjectStore"
        assert len(backup["spec"]["schedule"].split()) == 6  # CloudNativePG's cron has seconds
        # max_connections covers every replica's pools at the HPA's maximum (docs/operations.md, sizing).
        service = name.removesuffix("-db")
        hpa = of_kind(manifests, "HorizontalPodAutoscaler")[service]["spec"]
        settings = settings_for(service)
        pools = 2 if service == "roster" else 1  # the roster's read engine is on the standbys, counted too
        per_pod = (settings.db_pool_size + settings.db_max_overflow) * pools
        assert int(spec["postgresql"]["parameters"]["max_connections"]) >= hpa["maxReplicas"] * per_pod + 20


# --- network ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    name: str
    labels: tuple[tuple[str, str], ...]
    namespace: str = NAMESPACE

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


def pod(name: str, labels: dict[str, str], namespace: str = NAMESPACE) -> Pod:
    return Pod(name, tuple(sorted(labels.items())), namespace)


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "matchLabels only"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def policies_selecting(manifests: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    return [p for p in of_kind(manifests, "NetworkPolicy").values() if selects(p["spec"]["podSelector"], labels)]


def peer_matches(peer: dict[str, Any], target: Pod) -> bool:
    if "ipBlock" in peer:
        return False
    namespaces = peer.get("namespaceSelector")
    if namespaces is None:
        in_namespace = target.namespace == NAMESPACE
    else:
        in_namespace = selects(namespaces, {"kubernetes.io/metadata.name": target.namespace})
    return in_namespace and selects(peer.get("podSelector", {}), target.label_map)


def port_matches(rule: dict[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return ports is None or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)


def allows(manifests: list[Manifest], source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
    def side(subject: Pod, other: Pod, direction: str, peers: str) -> bool:
        if subject.namespace != NAMESPACE:
            return True  # outside our namespace: not ours to restrict
        isolating = [
            p for p in policies_selecting(manifests, subject.label_map) if direction in p["spec"]["policyTypes"]
        ]
        return not isolating or any(
            (port_matches(rule, port, protocol) and ("to" not in rule if peers == "to" else "from" not in rule))
            or (port_matches(rule, port, protocol) and any(peer_matches(peer, other) for peer in rule.get(peers, [])))
            for p in isolating
            for rule in p["spec"].get(direction.lower(), [])
        )

    return side(source, target, "Egress", "to") and side(target, source, "Ingress", "from")


INGRESS_CONTROLLER = pod("ingress-controller", {"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
KUBE_DNS = pod("kube-dns", {"k8s-app": "kube-dns"}, "kube-system")


def code_calls() -> set[tuple[str, str]]:
    """Who calls whom, from the code: each service's ``*_url`` settings (the gateway's own JWKS excepted)."""
    calls = set()
    for service in SERVICE_NAMES:
        for field in type(settings_for(service)).model_fields:
            if field.endswith("_url") and field not in NOT_URLS:
                target = "gateway" if field in ("jwks_url", "token_url") else field.removesuffix("_url")
                if target != service:
                    calls.add((service, target))
    return calls


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_what_the_code_calls(overlay: str) -> None:
    manifests = rendered(overlay)
    policies = of_kind(manifests, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny
    workloads = [
        pod(w["metadata"]["name"], w["spec"]["template"]["metadata"]["labels"])
        for kind in WORKLOADS
        for w in of_kind(manifests, kind).values()
    ]
    databases = [pod(name, {"cnpg.io/cluster": name}) for name in of_kind(manifests, "Cluster")]
    services = {p.name: p for p in workloads if p.name in SERVICE_NAMES}
    expected = {("ingress-controller", "gateway", PORTS["gateway"])}
    expected |= {(source, target, PORTS[target]) for source, target in code_calls()}
    for workload in [*of_kind(manifests, "Deployment").values(), *of_kind(manifests, "Job").values()]:
        for container in containers(workload):
            for name, value, _ in env_of(container):
                if name.endswith("_DATABASE_URL") and value:
                    host = urlsplit(value).hostname or ""
                    expected.add((workload["metadata"]["name"], host.removesuffix("-rw"), 5432))
                    if name.endswith("_DATABASE_READ_URL"):
                        expected.add((workload["metadata"]["name"], host.removesuffix("-ro"), 5432))
    allowed = {
        (source.name, target.name, port)
        for source in [INGRESS_CONTROLLER, *workloads]
        for target in [*services.values(), *databases]
        for port in [*PORTS.values(), 5432]
        if source != target and allows(manifests, source, target, port)
    }
    assert allowed == expected
    for source in workloads:
        assert allows(manifests, source, KUBE_DNS, 53, "UDP"), f"{source.name} resolves names"
    for database in databases:  # its instances replicate to each other
        assert allows(manifests, database, database, 5432)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_roster_report_reads_the_replica_only_where_there_is_one(overlay: str) -> None:
    (roster,) = pod_spec(of_kind(rendered(overlay), "Deployment")["roster"])["containers"]
    read = {name: value for name, value, _ in env_of(roster)}.get("SHEGONG_ROSTER_DATABASE_READ_URL")
    if overlay == "production":
        assert read == "postgresql+asyncpg://roster@roster-db-ro:5432/roster"
    else:
        assert read is None  # one instance: no standby behind -ro; reports read the primary
