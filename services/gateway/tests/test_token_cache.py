"""The gateway's per-request token work (issue #16): a verified token's signature is not checked again until
it expires or its key leaves the JWKS; concurrent requests of one holder share one token-version read."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import InProcessService
from services.gateway.keys import SigningKeys, new_key
from services.gateway.revocation import TokenVersions
from services.gateway.tests.conftest import AccountFactory
from services.gateway.tokens import issue_access_token
from shared.auth import Grant, Principal, Role, TokenVerifier
from shared.problems import Unauthorized

PRINCIPAL = Principal(subject="user:cache-test", name="测试", grants=(Grant(Role.worker, "330302001001"),))


def keys_in(folder: Path) -> SigningKeys:
    new_key(folder)
    return SigningKeys(folder)


async def test_a_verified_token_is_remembered_until_it_expires(tmp_path: Path) -> None:
    keys = keys_in(tmp_path)

    async def jwks() -> dict[str, Any]:
        return keys.jwks()

    verifier = TokenVerifier(jwks, leeway_seconds=0, cache_size=10)
    token = issue_access_token(keys, PRINCIPAL, ttl_seconds=2)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # remembered: not decoded again
    uncached = TokenVerifier(jwks, leeway_seconds=0)
    assert await uncached.verify(token) == first
    assert await uncached.verify(token) is not first  # without a cache, every call verifies
    await asyncio.sleep(max(0.0, first.expires_at - time.time()) + 0.05)
    with pytest.raises(Unauthorized):
        await verifier.verify(token)  # expired: refused even though it was remembered


async def test_a_remembered_token_whose_key_left_the_jwks_is_refused(tmp_path: Path) -> None:
    keys = keys_in(tmp_path)
    published = {"keys": keys.jwks()["keys"]}

    async def jwks() -> dict[str, Any]:
        return published

    verifier = TokenVerifier(jwks, refresh_seconds=0, min_refetch_seconds=0, cache_size=10)
    token = issue_access_token(keys, PRINCIPAL, ttl_seconds=600)
    assert (await verifier.verify(token)).subject == PRINCIPAL.subject
    published = {"keys": []}  # the key is withdrawn (compromised): the next refresh drops it
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


async def test_the_cache_is_bounded(tmp_path: Path) -> None:
    keys = keys_in(tmp_path)

    async def jwks() -> dict[str, Any]:
        return keys.jwks()

    verifier = TokenVerifier(jwks, cache_size=3)
    for _ in range(10):
        await verifier.verify(issue_access_token(keys, PRINCIPAL, ttl_seconds=600))
    assert len(verifier._verified) <= 3


async def test_concurrent_requests_of_one_holder_share_one_version_read(
    gateway: InProcessService, account: AccountFactory
) -> None:
    user = await account(("worker", "330302001001"))
    subject = f"user:{user.id}"
    versions = TokenVersions(lambda: gateway.app.state.sessionmaker, cache_seconds=2.0)
    reads = 0
    read = versions._read

    async def counted(who: str) -> int | None:
        nonlocal reads
        reads += 1
        return await read(who)

    versions._read = counted  # type: ignore[method-assign,assignment]
    answers = await asyncio.gather(*(versions.current(subject) for _ in range(20)))
    assert reads == 1
    assert len(set(answers)) == 1
    assert answers[0] is not None
    assert await versions.current("user:00000000-0000-0000-0000-000000000000") is None  # no such account
    assert reads == 2
