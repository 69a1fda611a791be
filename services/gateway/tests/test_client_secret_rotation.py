"""Rotating an API client's secret without an outage: the previous secret keeps working for a grace
period, tokens already issued keep working, and a service still using an old secret does not make its
own address wait once it has the right one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from conftest import InProcessService, ServiceFactory, bearer
from services.gateway.tests.conftest import PASSWORD, Account, AccountFactory, make_account, sign_in
from services.gateway.tests.test_proxy import echo_app, serve
from shared.service_auth import ServiceCredentials

FEED = "/api/v1/roster/events"
TOKEN_URL = "/api/v1/auth/token"


@pytest_asyncio.fixture
async def gateway(service_app: ServiceFactory, request: pytest.FixtureRequest) -> AsyncIterator[InProcessService]:
    """The gateway routing roster to an echo app; settings from the test's ``gateway`` parameter."""
    settings = getattr(request, "param", {})
    async with serve(echo_app) as port:
        svc = await service_app("gateway", roster_url=f"http://127.0.0.1:{port}", **settings)
        svc.app.state.upstreams = svc.app.state.settings.upstreams()
        yield svc


async def create_service_client(gateway: InProcessService, admin: Account, client_id: str) -> str:
    created = await gateway.client.post(
        "/api/v1/identity/clients",
        headers=admin.headers,
        json={
            "client_id": client_id,
            "name": "花名册服务",
            "department": "信息中心",
            "grants": [{"right": "service", "region": "330000"}],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["client_secret"])


async def rotate(gateway: InProcessService, admin: Account, client_id: str) -> str:
    rotated = await gateway.client.post(f"/api/v1/identity/clients/{client_id}/secret", headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    return str(rotated.json()["client_secret"])


async def client_sign_in(gateway: InProcessService, client_id: str, secret: str) -> httpx.Response:
    return await gateway.client.post(
        TOKEN_URL, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )


async def test_a_rotation_has_no_failed_call(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    old_secret = await create_service_client(gateway, admin, "roster-svc")
    running = ServiceCredentials(gateway.client, TOKEN_URL, "roster-svc", old_secret)
    statuses = [(await gateway.client.get(FEED, headers=await running.headers())).status_code]

    new_secret = await rotate(gateway, admin, "roster-svc")
    # The running service goes on with the token it holds, and, when that expires, with its old secret.
    statuses.append((await gateway.client.get(FEED, headers=await running.headers())).status_code)
    running._token = None  # its token expired: it signs in again, still with the secret it was started with
    statuses.append((await gateway.client.get(FEED, headers=await running.headers())).status_code)
    # Restarted with the new secret (a rolling restart: old and new replicas side by side).
    restarted = ServiceCredentials(gateway.client, TOKEN_URL, "roster-svc", new_secret)
    for credentials in (running, restarted, running):
        statuses.append((await gateway.client.get(FEED, headers=await credentials.headers())).status_code)
    assert statuses == [200] * 6

    failures = await gateway.client.get(
        "/api/v1/audit/events", headers=admin.headers, params={"action": "sign_in_failed"}
    )
    assert failures.json()["items"] == []


@pytest.mark.parametrize("gateway", [{"client_secret_grace_seconds": 0}], indirect=True)
async def test_with_no_grace_the_old_secret_stops_at_once(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    old_secret = await create_service_client(gateway, admin, "no-grace")
    token = (await client_sign_in(gateway, "no-grace", old_secret)).json()["access_token"]
    new_secret = await rotate(gateway, admin, "no-grace")
    refused = await client_sign_in(gateway, "no-grace", old_secret)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert (await client_sign_in(gateway, "no-grace", new_secret)).status_code == 200
    # A new secret does not revoke the tokens already issued: rotation is not revocation.
    assert (await gateway.client.get(FEED, headers=bearer(token))).status_code == 200


async def test_rotating_twice_ends_the_first_secret_at_once(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    leaked = await create_service_client(gateway, admin, "leaked")
    second = await rotate(gateway, admin, "leaked")
    third = await rotate(gateway, admin, "leaked")
    assert (await client_sign_in(gateway, "leaked", leaked)).status_code == 401
    assert (await client_sign_in(gateway, "leaked", second)).status_code == 200  # within the grace
    assert (await client_sign_in(gateway, "leaked", third)).status_code == 200


@pytest.mark.parametrize("gateway", [{"signin_address_max_failures": 3}], indirect=True)
async def test_a_service_failing_with_an_old_secret_does_not_make_its_address_wait(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("province_admin", "330000"))
    secret = await create_service_client(gateway, admin, "stale-svc")
    for _ in range(10):  # a service polling with a secret that is no longer valid
        assert (await client_sign_in(gateway, "stale-svc", "an outdated secret")).status_code == 401
    # Given the right secret, it signs in at once; so does a person at the same address.
    assert (await client_sign_in(gateway, "stale-svc", secret)).status_code == 200
    assert (await sign_in(gateway.client, admin.username, PASSWORD)).status_code == 200


async def test_failed_client_sign_ins_do_not_throttle_a_user_of_the_same_name(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway")
    user = await make_account(gateway, ("worker", "330302001001"), username="roster")
    for _ in range(6):
        assert (await client_sign_in(gateway, "roster", "wrong")).status_code == 401
    assert (await sign_in(gateway.client, user.username, PASSWORD)).status_code == 200
