"""End to end: the four services as real processes (``python -m shared.serve``), talked to over HTTP
through the gateway only, on the test run's PostgreSQL."""

import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from shared.migrations import SERVICE_NAMES, head_revision
from tests.e2e.conftest import Suite, service_headers

pytestmark = pytest.mark.e2e


def test_gateway_reports_all_four_services_ready(suite: Suite) -> None:
    response = httpx.get(f"{suite.gateway}/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {name: s["migration"] for name, s in body["services"].items()} == {
        name: head_revision(name) for name in SERVICE_NAMES
    }


@pytest.mark.parametrize("service", ["roster", "compensation", "evaluation"])
def test_each_service_answers_through_the_gateway(suite: Suite, service: str, data_dir: Path) -> None:
    enums = httpx.get(f"{suite.gateway}/api/v1/{service}/meta/enums")
    assert enums.status_code == 200
    assert enums.json()["enums"]
    feed = httpx.get(
        f"{suite.gateway}/api/v1/{service}/events", params={"limit": 5}, headers=service_headers(suite, data_dir)
    )
    assert feed.status_code == 200
    assert set(feed.json()) == {"items", "next_cursor"}


def test_errors_come_back_as_problems_with_the_callers_request_id(suite: Suite, data_dir: Path) -> None:
    response = httpx.get(
        f"{suite.gateway}/api/v1/roster/events",
        params={"limit": 0},
        headers={"X-Request-ID": "e2e-trace-0001", "Accept-Language": "en", **service_headers(suite, data_dir)},
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
        lines = [
            json.loads(line)
            for name in suite.replicas_of("roster")  # whichever replica the gateway chose
            for line in suite.logs[name].read_text().splitlines()
            if line.startswith("{")
        ]
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
    assert "/docs/static/vendor/swagger-ui-bundle.js" in docs.text  # served here, not from a CDN
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    bundle = httpx.get(f"{suite.gateway}/docs/static/vendor/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert len(bundle.content) > 100_000
    redoc = httpx.get(f"{suite.gateway}/redoc")
    assert "/docs/static/vendor/redoc.standalone.js" in redoc.text
    assert httpx.get(f"{suite.gateway}/docs/static/vendor/redoc.standalone.js").status_code == 200


def test_a_stopped_service_gives_503_problems_and_degraded_health(suite: Suite) -> None:
    for name in suite.replicas_of("roster"):  # every replica: with one left, the gateway would use it
        roster = suite.processes[name]
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
    # And when roster is back, so is the suite (later tests share it).
    for name in suite.replicas_of("roster"):
        suite.start(name)
    suite.wait_healthy()
