"""Revocation at once: the gateway refuses an access token whose holder's token version has moved on.

A signed token stays valid until it expires (10 minutes); without this check a disabled account, a
removed grant or a changed password would keep working that long. The gateway's verifier therefore
checks, after the signature, that the token's ``ver`` claim is its holder's current ``token_version``
and that the holder still exists and is active (:mod:`services.gateway.tokens`). It reads the version
once per holder every ``token_version_cache_seconds`` (default 2 s) per gateway process, one read at a
time per holder (concurrent requests share it): that is the longest a revoked token still passes. The
same verifier serves the rate limiter, the proxy and the gateway's own endpoints, so every request
through the gateway is checked; it remembers a token whose signature it verified until the token expires
(``shared.auth.TokenVerifier``'s ``cache_size``), never its version.

The services behind the gateway verify signatures only: a call made straight to a service (service to
service, inside the cluster) is not checked against versions.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.models import ApiClient, User
from services.gateway.tokens import TOKEN_VERSION_CLAIM
from shared.auth import JwksSource, Principal, TokenVerifier, unauthorized
from shared.i18n import Message
from shared.problems import ServiceUnavailable

REVOKED = Message(
    "访问令牌已失效（账号已停用、密码或权限已变更，或已退出登录），请重新获取令牌",
    "The access token is no longer valid (account disabled, password or access changed, or signed out); "
    "get a new token",
)
# A token from before token versions existed was issued under the first one.
LEGACY_VERSION = 1
_CACHE_LIMIT = 100_000


@dataclass(frozen=True)
class Holder:
    """What the gateway last read of a token's holder."""

    version: int | None  # None: no such (active) account
    read_at: float


class TokenVersions:
    """Current token versions of users and clients, read from the gateway's database, briefly cached."""

    def __init__(self, sessionmaker: Callable[[], async_sessionmaker[AsyncSession]], cache_seconds: float) -> None:
        self._sessionmaker = sessionmaker  # read per call: tests swap the app's sessionmaker after startup
        self.cache_seconds = cache_seconds
        self._cache: dict[str, Holder] = {}
        self._reading: dict[str, asyncio.Future[int | None]] = {}

    async def _read(self, subject: str) -> int | None:
        kind, _, ident = subject.partition(":")
        async with self._sessionmaker()() as session:
            if kind == "user":
                try:
                    user_id = uuid.UUID(ident)
                except ValueError:
                    return None
                row = (await session.execute(select(User.token_version, User.active).where(User.id == user_id))).first()
            elif kind == "client":
                row = (
                    await session.execute(
                        select(ApiClient.token_version, ApiClient.active).where(ApiClient.client_id == ident)
                    )
                ).first()
            else:
                return None
        if row is None or not row[1]:
            return None
        return int(row[0])

    async def current(self, subject: str) -> int | None:
        """The holder's token version, or None when it does not exist or is disabled."""
        cached = self._cache.get(subject)
        if cached is not None and time.monotonic() - cached.read_at < self.cache_seconds:
            return cached.version
        # One read per holder at a time: the requests that find the cache stale together share it.
        reading = self._reading.get(subject)
        if reading is None:
            reading = self._reading[subject] = asyncio.ensure_future(self._read_and_keep(subject))
            reading.add_done_callback(lambda _: self._reading.pop(subject, None))
        return await asyncio.shield(reading)

    async def _read_and_keep(self, subject: str) -> int | None:
        now = time.monotonic()
        try:
            version = await self._read(subject)
        except (SQLAlchemyError, OSError) as exc:
            raise ServiceUnavailable(
                Message("暂时无法核对令牌是否仍然有效", "Whether the token is still valid cannot be checked now")
            ) from exc
        if self.cache_seconds > 0:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache = {k: v for k, v in self._cache.items() if now - v.read_at < self.cache_seconds}
            self._cache[subject] = Holder(version, now)
        return version


def claimed_version(token: str) -> int:
    """The ``ver`` claim of a token whose signature was just verified (its payload, without a second check)."""
    try:
        payload = token.split(".")[1]
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        version = claims.get(TOKEN_VERSION_CLAIM, LEGACY_VERSION)
    except (IndexError, ValueError, binascii.Error, AttributeError):
        raise unauthorized() from None
    if not isinstance(version, int) or isinstance(version, bool):
        raise unauthorized()
    return version


class CurrentTokenVerifier(TokenVerifier):
    """The gateway's verifier: the signature and claims as every service checks them, then the version."""

    def __init__(self, source: JwksSource, *, versions: TokenVersions, **options: Any) -> None:
        super().__init__(source, **options)
        self.versions = versions

    async def verify(self, token: str) -> Principal:
        principal = await super().verify(token)
        current = await self.versions.current(principal.subject)
        if current is None or current != claimed_version(token):
            raise unauthorized(REVOKED)
        return principal
