"""Tokens: the OAuth2 grants, refresh rotation and revocation, key rotation, sign-in slow-down."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import jwt
import pytest

from conftest import InProcessService, ServiceFactory, bearer
from services.gateway.keys import new_key
from services.gateway.tests.conftest import PASSWORD, AccountFactory, make_account, sign_in
from shared.auth import TokenVerifier


async def verifier_for(gateway: InProcessService) -> TokenVerifier:
    async def jwks() -> dict[str, object]:
        response = await gateway.client.get("/.well-known/jwks.json")
        assert response.headers["cache-control"] == "public, max-age=300"
        body: dict[str, object] = response.json()
        return body

    return TokenVerifier(jwks)


async def test_password_grant_issues_a_verifiable_token_with_the_users_grants(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("county_admin", "330302"), pd=("330302",), worker_id=None)
    principal = await (await verifier_for(gateway)).verify(user.token)
    assert principal.subject == f"user:{user.id}"
    assert [(g.role.value, g.region) for g in principal.grants] == [("county_admin", "330302")]
    assert principal.personal_data_regions == ("330302",)
    header = jwt.get_unverified_header(user.token)
    assert header["alg"] == "EdDSA"
    me = await gateway.client.get("/api/v1/auth/me", headers=user.headers)
    assert me.json()["subject"] == f"user:{user.id}"


async def test_unknown_user_and_wrong_password_get_the_same_answer(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("worker", "330302001001"))
    wrong = await sign_in(gateway.client, user.username, "not the password")
    unknown = await sign_in(gateway.client, "nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    for key in ("title", "detail", "error"):
        assert wrong.json()[key] == unknown.json()[key]
    assert wrong.json()["error"] == "invalid_grant"
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_repeated_failures_slow_down_the_account_even_for_the_right_password(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("worker", "330302001001"))
    for _ in range(5):  # signin_max_failures
        assert (await sign_in(gateway.client, user.username, "guess")).status_code == 401
    blocked = await sign_in(gateway.client, user.username, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["type"].endswith("/too-many-requests")


async def _refresh(gateway: InProcessService, token: str) -> httpx.Response:
    return await gateway.client.post("/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token})


async def test_a_refresh_retried_within_the_grace_gets_the_same_successor(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("worker", "330302001001"))
    first = await _refresh(gateway, user.refresh_token)
    assert first.status_code == 200
    successor = first.json()["refresh_token"]
    assert successor != user.refresh_token
    # The phone never saw that answer (a flaky network) and sends its old token again: not signed out.
    retried = await _refresh(gateway, user.refresh_token)
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] == successor
    me = await gateway.client.get("/api/v1/auth/me", headers=bearer(retried.json()["access_token"]))
    assert me.json()["subject"] == f"user:{user.id}"
    # The session goes on from that successor.
    following = await _refresh(gateway, successor)
    assert following.status_code == 200
    # Once the successor itself was used, the old token is a copy, grace or not: the session ends.
    assert (await _refresh(gateway, user.refresh_token)).status_code == 401
    assert (await _refresh(gateway, following.json()["refresh_token"])).status_code == 401


async def test_a_reused_refresh_token_after_the_grace_ends_the_whole_session(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", refresh_token_reuse_grace_seconds=0.3)
    user = await make_account(gateway, ("worker", "330302001001"))
    first = await _refresh(gateway, user.refresh_token)
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    await asyncio.sleep(0.4)
    # The old token again, after the grace: a copy is in someone else's hands. Refused, family revoked.
    replay = await _refresh(gateway, user.refresh_token)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_grant"
    assert (await _refresh(gateway, rotated)).status_code == 401


async def test_a_revoked_refresh_token_is_refused(gateway: InProcessService, account: AccountFactory) -> None:
    user = await account(("worker", "330302001001"))
    revoked = await gateway.client.post("/api/v1/auth/revoke", data={"token": user.refresh_token})
    assert revoked.status_code == 200
    refused = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_grant"
    # Revoking garbage answers the same (RFC 7009).
    assert (await gateway.client.post("/api/v1/auth/revoke", data={"token": "x.y"})).status_code == 200


async def test_client_credentials_by_form_and_by_basic_auth(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("province_admin", "330000"))
    created = await gateway.client.post(
        "/api/v1/identity/clients",
        headers=admin.headers,
        json={
            "client_id": "zj-platform",
            "name": "浙江省基层治理平台",
            "department": "省民政厅",
            "grants": [{"right": "auditor", "region": "330000"}],
        },
    )
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    form = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "zj-platform", "client_secret": secret},
    )
    assert form.status_code == 200
    assert form.json()["refresh_token"] is None
    basic = base64.b64encode(f"zj-platform:{secret}".encode()).decode()
    by_basic = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    me = await gateway.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {by_basic.json()['access_token']}"}
    )
    assert me.json()["subject"] == "client:zj-platform"
    wrong = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "zj-platform", "client_secret": "x"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


async def test_unsupported_grant_type_is_400(gateway: InProcessService) -> None:
    response = await gateway.client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_key_rotation_two_keys_valid_while_rolling(gateway: InProcessService, account: AccountFactory) -> None:
    user = await account(("worker", "330302001001"))
    keys = gateway.app.state.signing_keys
    old_kid = jwt.get_unverified_header(user.token)["kid"]
    new_kid = new_key(keys.folder)
    try:
        keys._loaded_at = float("-inf")  # the gateway re-reads its folder every 30 s; now, for the test
        jwks = (await gateway.client.get("/.well-known/jwks.json")).json()
        assert {k["kid"] for k in jwks["keys"]} >= {old_kid, new_kid}  # published at once
        # ... but it does not sign before every replica can verify it (the activation delay).
        early = await sign_in(gateway.client, user.username)
        assert jwt.get_unverified_header(early.json()["access_token"])["kid"] == old_kid
        keys.activation_seconds = 0  # the delay has passed
        fresh = await sign_in(gateway.client, user.username)
        assert jwt.get_unverified_header(fresh.json()["access_token"])["kid"] == new_kid
        verifier = await verifier_for(gateway)
        assert (await verifier.verify(user.token)).subject == f"user:{user.id}"  # old key still valid
        assert (await verifier.verify(fresh.json()["access_token"])).subject == f"user:{user.id}"
    finally:
        (keys.folder / f"{new_kid}.pem").unlink()
        keys._loaded_at = float("-inf")
        keys.activation_seconds = gateway.app.state.settings.signing_key_activation_seconds


@pytest.mark.parametrize("claim", ["roles", "sub"])
async def test_a_tampered_token_is_refused(gateway: InProcessService, account: AccountFactory, claim: str) -> None:
    user = await account(("worker", "330302001001"))
    header, payload, signature = user.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[claim] = [{"role": "province_admin", "region": "330000"}] if claim == "roles" else "user:someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = await gateway.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
