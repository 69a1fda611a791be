"""Rate limits per user, per client and per address: they trip, say when to come back, and reset."""

from __future__ import annotations

import asyncio

from conftest import ServiceFactory, bearer
from services.gateway.rate_limits import gcra
from services.gateway.tests.conftest import make_account, make_client


def test_gcra_admits_the_limit_then_refuses_then_recovers() -> None:
    tat: float | None = None
    decisions = []
    for _ in range(4):
        decision, moved = gcra(tat, 100.0, 3, 60)
        tat = moved if moved is not None else tat
        decisions.append(decision)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == 20  # one request's worth of the window: 60 s / 3
    assert gcra(None, 100.0, 3, 60)[0].allowed  # another key starts afresh
    back, tat = gcra(tat, 120.0, 3, 60)
    assert back.allowed  # one slot back after 20 s
    assert not gcra(tat, 120.0, 3, 60)[0].allowed


async def test_the_limit_holds_across_gateway_replicas(service_app: ServiceFactory) -> None:
    """Issue #15: two gateway replicas on one database admit one user's limit between them, not twice it:
    the GCRA cells live in PostgreSQL (gateway.rate_limit_cells), not in each process."""
    options = {"rollback": False, "rate_limit_user": 5, "rate_limit_window_seconds": 30.0}
    first = await service_app("gateway", **options)
    second = await service_app("gateway", **options)
    worker = await make_account(first, ("worker", "330302001003"))
    user = bearer(worker.token)
    answers = [await (first, second)[i % 2].client.get("/api/v1/auth/me", headers=user) for i in range(10)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 5
    assert answers[4].headers["ratelimit"].startswith('"user";r=0;')
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers[5:])


async def test_limits_trip_with_429_and_reset_through_the_gateway(service_app: ServiceFactory) -> None:
    gateway = await service_app(
        "gateway", rate_limit_user=3, rate_limit_anonymous=2, rate_limit_client=5, rate_limit_window_seconds=3.0
    )
    # A 3-second window: the four calls below trip the limit unless each took over a second (a loaded machine
    # made a 1-second window flaky: the allowance refilled between calls).
    # Real accounts: the gateway refuses tokens of accounts it does not know. Signing in is anonymous,
    # so the address's allowance (2) is waited out before the counting starts.
    worker = await make_account(gateway, ("worker", "330302001001"))
    await asyncio.sleep(3.05)
    other_worker = await make_account(gateway, ("worker", "330302001002"))
    await asyncio.sleep(3.05)
    _, client_token = await make_client(gateway, "roster-test", ("service", "330000"))
    await asyncio.sleep(3.05)
    user = bearer(worker.token)
    answers = [await gateway.client.get("/api/v1/auth/me", headers=user) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-policy"] == '"user";q=3;w=3'
    assert answers[0].headers["ratelimit"].startswith('"user";r=2;')
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-request-id"] == refused.json()["request_id"]

    # Another user and a client have their own allowance; anonymous callers share the address's.
    other = await gateway.client.get("/api/v1/auth/me", headers=bearer(other_worker.token))
    assert other.status_code == 200
    client = bearer(client_token)
    assert (
        (await gateway.client.get("/api/v1/auth/me", headers=client)).headers["ratelimit-policy"].startswith('"client"')
    )
    anonymous = [await gateway.client.get("/api/v1/identity/users") for _ in range(3)]
    assert [a.status_code for a in anonymous] == [401, 401, 429]
    assert (await gateway.client.get("/livez")).status_code == 200  # health is never limited

    await asyncio.sleep(int(refused.headers["retry-after"]) + 0.05)
    assert (await gateway.client.get("/api/v1/auth/me", headers=user)).status_code == 200  # reset


async def test_console_pages_count_against_the_signed_in_user_not_the_address(service_app: ServiceFactory) -> None:
    """A township office signs in to the console behind one address: its pages count against each signed-in
    user's allowance (the access cookie), not the address's anonymous one; the cookie authenticates no API
    call (the limiter only counts by it)."""
    gateway = await service_app("gateway", rate_limit_user=50, rate_limit_anonymous=5, rate_limit_window_seconds=30.0)
    officer = await make_account(gateway, ("county_admin", "330302"))
    cookie = {"Cookie": f"shegong_access={officer.token}"}  # as the browser sends it
    page = await gateway.client.get("/console/", headers=cookie)
    assert page.headers["ratelimit-policy"] == '"user";q=50;w=30'
    signed_out = await gateway.client.get("/console/sign-in")
    assert signed_out.headers["ratelimit-policy"] == '"anonymous";q=5;w=30'
    forged = await gateway.client.get("/console/", headers={"Cookie": "shegong_access=not-a-token"})
    assert forged.headers["ratelimit-policy"].startswith('"anonymous"')  # a bad cookie counts against the address
    me = await gateway.client.get("/api/v1/auth/me", headers=cookie)
    assert me.status_code == 401  # the cookie alone is no bearer token for the API


async def test_cors_admits_configured_origins_only(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", cors_origins=["https://app.zj.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = await gateway.client.options(
        "/api/v1/auth/token", headers={"Origin": "https://app.zj.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.zj.example"
    refused = await gateway.client.options(
        "/api/v1/auth/token", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers
