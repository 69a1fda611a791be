"""``/readyz`` tells the truth: the database, the service's own sign-in and every feed it consumes."""

from __future__ import annotations

import asyncio
import time

import httpx

from conftest import ServiceFactory
from deploy.local.postgres import free_port
from shared.service_auth import ServiceCredentials

ENGLISH = {"Accept-Language": "en"}


def gateway_answering(status: int) -> ServiceCredentials:
    """Credentials whose token endpoint answers ``status`` (200: a token)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if status == 200:
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 600})
        return httpx.Response(status, json={"error": "invalid_client"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return ServiceCredentials(client, "http://gateway.test/api/v1/auth/token", "evaluation", "secret")


async def test_ready_lists_every_check(service_app: ServiceFactory) -> None:
    evaluation = await service_app("evaluation")
    ready = await evaluation.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert {name: check["status"] for name, check in checks.items()} == {
        "database": "ok",
        "credentials": "not_configured",
        "feed:roster": "disabled",  # the tests poll feeds themselves
    }
    evaluation.app.state.service_credentials = gateway_answering(200)
    assert (await evaluation.client.get("/readyz")).json()["checks"]["credentials"]["status"] == "ok"


async def test_not_ready_when_the_service_cannot_sign_in(service_app: ServiceFactory) -> None:
    evaluation = await service_app("evaluation")
    evaluation.app.state.service_credentials = gateway_answering(401)
    answer = await evaluation.client.get("/readyz", headers=ENGLISH)
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["detail"] == "Not ready: cannot sign in as client evaluation (HTTP 401)"
    assert body["checks"]["credentials"] == {
        "status": "failing",
        "detail": "cannot sign in as client evaluation: HTTP 401",
        "behind_seconds": None,
        "caught_up_at": None,
        "failures": None,
    }
    assert body["checks"]["database"]["status"] == "ok"
    assert "无法以客户端 evaluation 登录" in (await evaluation.client.get("/readyz")).json()["detail"]


async def test_not_ready_when_a_feed_fails(service_app: ServiceFactory) -> None:
    """The roster cannot be reached: after three failed polls in a row evaluation says so."""
    evaluation = await service_app(
        "evaluation",
        rollback=False,
        feeds_enabled=True,
        feed_poll_seconds=0.05,
        roster_url=f"http://127.0.0.1:{free_port()}",
        http_connect_timeout_seconds=0.5,
    )
    deadline = time.monotonic() + 20
    while True:
        answer = await evaluation.client.get("/readyz", headers=ENGLISH)
        if answer.status_code == 503 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert answer.status_code == 503, answer.text
    feed = answer.json()["checks"]["feed:roster"]
    assert feed["status"] == "failing"
    assert feed["failures"] >= 3
    assert feed["detail"].startswith("Connect")  # refused (httpx-aiohttp names it ConnectTimeout)
    assert answer.json()["detail"].startswith("Not ready: the roster feed failed")


async def test_not_ready_when_a_feed_lags(service_app: ServiceFactory) -> None:
    evaluation = await service_app("evaluation", feed_max_lag_seconds=30)
    (feed,) = evaluation.app.state.feeds
    feed.running = True  # as if polling in the background since 40 s without reaching the feed's end
    feed.started_at = time.monotonic() - 40
    answer = await evaluation.client.get("/readyz", headers=ENGLISH)
    assert answer.status_code == 503
    assert answer.json()["checks"]["feed:roster"]["status"] == "lagging"
    assert answer.json()["detail"].startswith("Not ready: the roster feed is 40")
    feed.caught_up_at = time.monotonic()
    assert (await evaluation.client.get("/readyz")).status_code == 200
