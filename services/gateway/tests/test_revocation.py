"""Revocation at once: a disabled account, a removed grant, a changed password or signing out everywhere
ends the access tokens already issued, through the gateway's proxy to a real downstream (an echo app
served by uvicorn on a loopback port)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from conftest import InProcessService, ServiceFactory
from services.gateway.tests.conftest import Account, AccountFactory
from services.gateway.tests.test_proxy import echo_app, serve

PROXIED = "/api/v1/roster/workers"


@pytest_asyncio.fixture
async def gateway(service_app: ServiceFactory, request: pytest.FixtureRequest) -> AsyncIterator[InProcessService]:
    """Overrides the plain gateway: routes roster to the echo app, reads token versions on every request
    (or caches them for as long as the test's ``gateway`` parameter says)."""
    cache_seconds = getattr(request, "param", 0)
    async with serve(echo_app) as port:
        svc = await service_app(
            "gateway", roster_url=f"http://127.0.0.1:{port}", token_version_cache_seconds=cache_seconds
        )
        svc.app.state.upstreams = svc.app.state.settings.upstreams()
        yield svc


async def _reaches_downstream(client: httpx.AsyncClient, who: Account) -> httpx.Response:
    return await client.get(PROXIED, headers=who.headers)


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "headers" not in response.json()  # the downstream never saw the request


async def _patch_user(client: httpx.AsyncClient, admin: Account, user: Account, body: dict[str, object]) -> None:
    path = f"/api/v1/identity/users/{user.id}"
    current = await client.get(path, headers=admin.headers)
    changed = await client.patch(path, headers={**admin.headers, "If-Match": current.headers["etag"]}, json=body)
    assert changed.status_code == 200, changed.text


async def test_disabling_a_user_refuses_their_token_at_once(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    user = await account(("worker", "330302001001"))
    assert (await _reaches_downstream(gateway.client, user)).status_code == 200
    await _patch_user(gateway.client, admin, user, {"active": False})
    _refused(await _reaches_downstream(gateway.client, user))
    _refused(await gateway.client.get("/api/v1/auth/me", headers=user.headers))  # the gateway's own API too
    assert (await _reaches_downstream(gateway.client, admin)).status_code == 200  # others unaffected


async def test_a_disabled_admin_can_no_longer_administer(gateway: InProcessService, account: AccountFactory) -> None:
    top = await account(("province_admin", "330000"))
    county = await account(("county_admin", "330302"))
    await _patch_user(gateway.client, top, county, {"active": False})
    _refused(await gateway.client.get("/api/v1/identity/users", headers=county.headers))


async def test_removing_a_grant_refuses_the_token_that_carries_it_and_a_refresh_gets_the_rest(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("province_admin", "330000"), pd=("330000",))  # AC2: only a holder may remove it
    user = await account(("community_secretary", "330302001001"), pd=("330302001001",))
    held = (await gateway.client.get(f"/api/v1/identity/users/{user.id}", headers=admin.headers)).json()["grants"]
    personal = next(g for g in held if g["right"] == "personal_data")
    removed = await gateway.client.delete(f"/api/v1/identity/grants/{personal['id']}", headers=admin.headers)
    assert removed.status_code == 204
    _refused(await _reaches_downstream(gateway.client, user))
    # The session goes on: a refresh gives a token with the grants as they are now.
    refreshed = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
    )
    assert refreshed.status_code == 200
    fresh = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await gateway.client.get(PROXIED, headers=fresh)).status_code == 200
    me = (await gateway.client.get("/api/v1/auth/me", headers=fresh)).json()
    assert me["personal_data_regions"] == []


async def test_a_new_grant_also_ends_the_old_token(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    user = await account(("worker", "330302001001"))
    granted = await gateway.client.post(
        f"/api/v1/identity/users/{user.id}/grants",
        headers=admin.headers,
        json={"right": "community_secretary", "region": "330302001001"},
    )
    assert granted.status_code == 201, granted.text
    _refused(await _reaches_downstream(gateway.client, user))


async def test_changing_the_password_refuses_the_token_and_the_refresh_token(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("province_admin", "330000"))
    user = await account(("worker", "330302001001"))
    await _patch_user(gateway.client, admin, user, {"password": "a completely new passphrase"})
    _refused(await _reaches_downstream(gateway.client, user))
    refresh = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
    )
    assert refresh.status_code == 401


async def test_signing_out_everywhere_ends_every_token_of_the_user(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("worker", "330302001001"))
    other_device = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": user.username, "password": "correct horse battery staple"},
    )
    second = {"Authorization": f"Bearer {other_device.json()['access_token']}"}
    assert (await gateway.client.post("/api/v1/auth/revoke-all", headers=user.headers)).status_code == 204
    _refused(await _reaches_downstream(gateway.client, user))
    _refused(await gateway.client.get(PROXIED, headers=second))
    for refresh in (user.refresh_token, other_device.json()["refresh_token"]):
        again = await gateway.client.post(
            "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
        )
        assert again.status_code == 401
    # Signing in again works.
    assert (
        await gateway.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": user.username, "password": "correct horse battery staple"},
        )
    ).status_code == 200


async def test_a_client_whose_grant_is_revoked_is_refused(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    created = await gateway.client.post(
        "/api/v1/identity/clients",
        headers=admin.headers,
        json={
            "client_id": "revoked-platform",
            "name": "平台",
            "department": "省民政厅",
            "grants": [{"right": "auditor", "region": "330000"}, {"right": "auditor", "region": "330300"}],
        },
    )
    secret = created.json()["client_secret"]
    token = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "revoked-platform", "client_secret": secret},
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (await gateway.client.get(PROXIED, headers=headers)).status_code == 200
    clients = (await gateway.client.get("/api/v1/identity/clients", headers=admin.headers)).json()
    grant = next(c for c in clients if c["client_id"] == "revoked-platform")["grants"][1]
    removed = await gateway.client.delete(f"/api/v1/identity/grants/{grant['id']}", headers=admin.headers)
    assert removed.status_code == 204
    refused = await gateway.client.get(PROXIED, headers=headers)
    assert refused.status_code == 401


@pytest.mark.parametrize("gateway", [0.5], indirect=True)
async def test_the_version_is_cached_only_briefly(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    user = await account(("worker", "330302001001"))
    assert (await _reaches_downstream(gateway.client, user)).status_code == 200  # its version is now cached
    await _patch_user(gateway.client, admin, user, {"active": False})
    await asyncio.sleep(0.6)
    _refused(await _reaches_downstream(gateway.client, user))
