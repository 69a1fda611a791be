"""The suite under test for end-to-end tests: the four services as real processes on the run's database.

``SHEGONG_E2E_REPLICAS=2`` runs every end-to-end test on two replicas of each service (issue #15): the
gateway's URL settings list both replicas of each service, the second gateway shares the first's state
through PostgreSQL, and ``Suite.gateways`` lists both gateways (``Suite.gateway`` is the first).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from conftest import FAST_HASHING, PostgresServer, migrated_database
from deploy.local.postgres import free_port
from shared.migrations import SERVICE_NAMES

# A bound, not a wait: on a shared two-core machine under load, importing a service alone took 70 s.
SUITE_START_SECONDS = 180
RATE_LIMIT_USER = 40
WEBHOOK_RETRY_SECONDS = "0.2,0.4,0.8"  # three retries: a fourth failed try parks a delivery
RATE_LIMIT_WINDOW = 2
REPLICAS = int(os.environ.get("SHEGONG_E2E_REPLICAS", "1"))


@dataclass
class Suite:
    gateway: str
    processes: dict[str, subprocess.Popen[bytes]]  # by process name: "roster", "roster-2" …
    logs: dict[str, Path]
    ports: dict[str, int]  # each service's first replica
    env: dict[str, str]
    replica_ports: dict[str, list[int]] = field(default_factory=dict)

    @property
    def gateways(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.replica_ports.get("gateway", [self.ports["gateway"]])]

    def replicas_of(self, service: str) -> list[str]:
        """The process names of a service's replicas."""
        count = len(self.replica_ports.get(service, [0]))
        return [replica_name(service, k) for k in range(1, count + 1)]

    def start(self, name: str) -> None:
        service, _, replica = name.partition("-")
        env = self.env
        if replica:
            env = env | {f"SHEGONG_{service.upper()}_PORT": str(self.replica_ports[service][int(replica) - 1])}
        with self.logs[name].open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "shared.serve", service], env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_healthy(self) -> None:
        # Four (or eight) processes starting at once on a 2-core machine that others share: minutes, not
        # seconds (seen: 90 s for four under load).
        timeout = 180.0 if len(self.gateways) == 1 else 300.0
        for gateway in self.gateways:
            wait_until_healthy(f"{gateway}/healthz", self.processes, self.logs, timeout)

    def service_url(self, service: str) -> str:
        """A service's own address: for calling it directly, past the gateway."""
        return f"http://127.0.0.1:{self.ports[service]}"


def replica_name(service: str, replica: int) -> str:
    return service if replica == 1 else f"{service}-{replica}"


def wait_until_healthy(
    url: str, processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path], timeout: float = 180.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}: {logs[name].read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"suite not healthy in {timeout:.0f} s: " + "; ".join(p.read_text()[-500:] for p in logs.values())
    )


ADMIN_PASSWORD = "e2e admin password 0001"


@pytest.fixture(scope="package")
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The end-to-end suite's own database (it overrides the run's): the suite's processes, stopped when the
    package's tests end, consume feeds in the background, and must not take the events that in-process tests
    elsewhere poll for themselves, nor see their data."""
    with migrated_database(postgres_server, "shegong_e2e") as url:
        yield url


@pytest.fixture(scope="package")
def bootstrap_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``make up`` does after migrating: the bootstrap admin and each service's own API client."""
    return run_bootstrap(database_url, tmp_path_factory.mktemp("bootstrap"))


def run_bootstrap(database_url: str, folder: Path) -> Path:
    """The bootstrap admin and the services' API clients in ``database_url``, their secrets in ``folder``."""
    env = dict(os.environ) | {
        "SHEGONG_GATEWAY_DATABASE_URL": database_url,
        "SHEGONG_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **{f"SHEGONG_GATEWAY_{k.upper()}": str(v) for k, v in FAST_HASHING.items()},
    }
    subprocess.run([sys.executable, "-m", "services.gateway.bootstrap", str(folder)], env=env, check=True)
    return folder


@pytest.fixture(scope="package")
def suite(
    database_url: str, signing_keys_dir: Path, bootstrap_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    # Per-user limit low enough for a test to trip it, with a short window so it resets quickly.
    with running_suite(
        database_url,
        signing_keys_dir,
        bootstrap_dir,
        tmp_path_factory.mktemp("e2e-logs"),
        rate_limit_user=RATE_LIMIT_USER,
        rate_limit_window=RATE_LIMIT_WINDOW,
        replicas=REPLICAS,
    ) as running:
        yield running


@contextmanager
def running_suite(
    database_url: str,
    signing_keys_dir: Path,
    bootstrap_dir: Path,
    log_dir: Path,
    *,
    rate_limit_user: int,
    rate_limit_window: float,
    replicas: int = 1,
) -> Iterator[Suite]:
    """The four services as real processes on ``database_url`` (``replicas`` of each), stopped (SIGTERM)
    on leaving."""
    replica_ports = {name: [free_port() for _ in range(replicas)] for name in SERVICE_NAMES}
    ports = {name: replica_ports[name][0] for name in SERVICE_NAMES}
    env = dict(os.environ)
    for name in SERVICE_NAMES:
        prefix = f"SHEGONG_{name.upper()}_"
        env[prefix + "DATABASE_URL"] = database_url
        env[prefix + "PORT"] = str(ports[name])
        env[prefix + "HOST"] = "127.0.0.1"
        if name != "gateway":  # the gateway balances between the replicas (services.gateway.upstreams)
            env[f"SHEGONG_GATEWAY_{name.upper()}_URL"] = ",".join(f"http://127.0.0.1:{p}" for p in replica_ports[name])
        if name != "gateway":
            env[prefix + "JWKS_URL"] = f"http://127.0.0.1:{ports['gateway']}/.well-known/jwks.json"
            env[prefix + "TOKEN_URL"] = f"http://127.0.0.1:{ports['gateway']}/api/v1/auth/token"
            env[prefix + "CLIENT_ID"] = name
            env[prefix + "CLIENT_SECRET"] = (bootstrap_dir / "clients" / f"{name}.secret").read_text().strip()
            env[prefix + "FEED_POLL_SECONDS"] = "0.2"
            for other in ("roster", "evaluation"):  # where each service finds the feeds it reads
                env[prefix + f"{other.upper()}_URL"] = f"http://127.0.0.1:{ports[other]}"
    env["SHEGONG_GATEWAY_PROXY_READ_TIMEOUT_SECONDS"] = "5"
    # Webhooks: the gateway follows the feeds quickly and retries failed deliveries within seconds.
    env["SHEGONG_GATEWAY_FEED_POLL_SECONDS"] = "0.2"
    env["SHEGONG_GATEWAY_WEBHOOK_POLL_SECONDS"] = "0.1"
    env["SHEGONG_GATEWAY_WEBHOOK_RETRY_SECONDS"] = WEBHOOK_RETRY_SECONDS
    env["SHEGONG_GATEWAY_SIGNING_KEYS_DIR"] = str(signing_keys_dir)
    env["SHEGONG_GATEWAY_RATE_LIMIT_USER"] = str(rate_limit_user)
    env["SHEGONG_GATEWAY_RATE_LIMIT_WINDOW_SECONDS"] = str(rate_limit_window)
    for key, value in FAST_HASHING.items():
        env[f"SHEGONG_GATEWAY_{key.upper()}"] = str(value)
    names = [replica_name(name, k) for name in SERVICE_NAMES for k in range(1, replicas + 1)]
    logs = {name: log_dir / f"{name}.log" for name in names}
    suite = Suite(f"http://127.0.0.1:{ports['gateway']}", {}, logs, ports, env, replica_ports)
    try:
        for name in names:
            suite.start(name)
        suite.wait_healthy()
        yield suite
    finally:
        for proc in suite.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in suite.processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="package")
def data_dir(suite: Suite, bootstrap_dir: Path) -> Path:
    """The bootstrap folder, once the suite runs (admin password from the environment, client secrets)."""
    return bootstrap_dir


def token_for(suite: Suite, username: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{suite.gateway}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def make_user(suite: Suite, admin: dict[str, str], username: str, right: str, region: str) -> dict[str, object]:
    response = httpx.post(
        f"{suite.gateway}/api/v1/identity/users",
        headers=admin,
        json={
            "username": username,
            "name": username,
            "password": "a long enough password",
            "grants": [{"right": right, "region": region}],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def signed_in(suite: Suite, right: str, region: str) -> dict[str, str]:
    """Bearer headers of a new real account holding ``right`` for ``region``: the gateway refuses tokens
    of accounts it does not know (minted ones), so calls through it need one of these."""
    admin = {"Authorization": f"Bearer {token_for(suite, 'admin', ADMIN_PASSWORD)['access_token']}"}
    username = f"e2e-{uuid.uuid4().hex[:10]}"
    make_user(suite, admin, username, right, region)
    return {"Authorization": f"Bearer {token_for(suite, username, 'a long enough password')['access_token']}"}


def service_headers(suite: Suite, bootstrap_dir: Path, client_id: str = "compensation") -> dict[str, str]:
    """Bearer headers of one of the suite's own service clients (client credentials)."""
    secret = (bootstrap_dir / "clients" / f"{client_id}.secret").read_text().strip()
    response = httpx.post(
        f"{suite.gateway}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
