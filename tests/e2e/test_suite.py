"""End to end: the four services as real processes (``python -m shared.serve``), talked to over HTTP
through the gateway only, on the test run's PostgreSQL."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from shared.migrations import SERVICE_NAMES, head_revision

pytestmark = pytest.mark.e2e


@dataclass
class Suite:
    gateway: str
    processes: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]


def wait_until_healthy(url: str, processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]) -> None:
    deadline = time.monotonic() + 60
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
    raise RuntimeError("suite not healthy in 60 s: " + "; ".join(p.read_text()[-500:] for p in logs.values()))


@pytest.fixture(scope="module")
def suite(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    ports = {name: free_port() for name in SERVICE_NAMES}
    env = dict(os.environ)
    for name in SERVICE_NAMES:
        prefix = f"SHEGONG_{name.upper()}_"
        env[prefix + "DATABASE_URL"] = database_url
        env[prefix + "PORT"] = str(ports[name])
        env[prefix + "HOST"] = "127.0.0.1"
        if name != "gateway":
            env[f"SHEGONG_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    env["SHEGONG_GATEWAY_PROXY_READ_TIMEOUT_SECONDS"] = "5"
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    logs = {name: log_dir / f"{name}.log" for name in SERVICE_NAMES}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in SERVICE_NAMES:
            with logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "shared.serve", name], env=env, stdout=log, stderr=subprocess.STDOUT
                )
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        wait_until_healthy(f"{gateway}/healthz", processes, logs)
        yield Suite(gateway, processes, logs)
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_gateway_reports_all_four_services_ready(suite: Suite) -> None:
    response = httpx.get(f"{suite.gateway}/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: s["migration"] for name, s in body["services"].items()} == {
        name: head_revision(name) for name in SERVICE_NAMES
    }


@pytest.mark.parametrize("service", ["roster", "compensation", "evaluation"])
def test_each_service_answers_through_the_gateway(suite: Suite, service: str) -> None:
    enums = httpx.get(f"{suite.gateway}/api/v1/{service}/meta/enums")
    assert enums.status_code == 200
    assert enums.json()["enums"]
    feed = httpx.get(f"{suite.gateway}/api/v1/{service}/events", params={"limit": 5})
    assert feed.status_code == 200
    assert set(feed.json()) == {"items", "next_cursor"}


def test_errors_come_back_as_problems_with_the_callers_request_id(suite: Suite) -> None:
    response = httpx.get(
        f"{suite.gateway}/api/v1/roster/events",
        params={"limit": 0},
        headers={"X-Request-ID": "e2e-trace-0001", "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "e2e-trace-0001"
    body = response.json()
    assert body["request_id"] == "e2e-trace-0001"
    assert body["instance"] == "/api/v1/roster/events"  # the path the client used, not the service's
    assert body["errors"][0]["pointer"] == "/query/limit"
    # The roster process logged the same request id, as JSON.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in suite.logs["roster"].read_text().splitlines() if line.startswith("{")]
        if any(line.get("request_id") == "e2e-trace-0001" for line in lines):
            break
        time.sleep(0.1)
    matching = [line for line in lines if line.get("request_id") == "e2e-trace-0001"]
    assert matching
    assert matching[0]["status"] == 422


def test_merged_openapi_and_docs(suite: Suite) -> None:
    document = httpx.get(f"{suite.gateway}/openapi.json").json()
    for service in ("roster", "compensation", "evaluation"):
        assert f"/api/v1/{service}/events" in document["paths"]
    assert "/healthz" in document["paths"]
    assert "x-services-from-committed-contract" not in document["info"]
    docs = httpx.get(f"{suite.gateway}/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text


def test_a_stopped_service_gives_503_problems_and_degraded_health(suite: Suite) -> None:
    roster = suite.processes["roster"]
    roster.send_signal(signal.SIGTERM)
    roster.wait(timeout=15)
    response = httpx.get(f"{suite.gateway}/api/v1/roster/events", timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    health = httpx.get(f"{suite.gateway}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["services"]["roster"]["status"] == "unavailable"
    assert health.json()["services"]["evaluation"]["status"] == "ready"
    # The other services still answer through the gateway.
    assert httpx.get(f"{suite.gateway}/api/v1/evaluation/meta/enums").status_code == 200
