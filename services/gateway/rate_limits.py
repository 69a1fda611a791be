"""Rate limits per user, per API client and per address (anonymous), with the IETF headers.

GCRA (generic cell rate algorithm): each key has a theoretical arrival time; a request is admitted
while that time is at most one window ahead. The times live in PostgreSQL (``gateway.rate_limit_cells``),
one conditional upsert per request by the database's clock, so the limit holds for the whole deployment
however many gateway replicas share it (issue #15; before, each process counted alone and N replicas
allowed N times the limit). Expired cells are deleted now and then by whichever replica comes by.
Responses carry ``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers); a refused
request gets 429 problem+json with ``Retry-After``. The verified principal is left in the request
state, so the token is checked once per request at the gateway. An anonymous caller's address is the
one :mod:`services.gateway.client_address` resolves (forwarded headers only from trusted proxies).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Double, Table, cast, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.client_address import ClientAddresses
from services.gateway.models import RateLimitCell
from shared.auth import Principal, TokenVerifier, bearer_token
from shared.i18n import Message as Text
from shared.problems import Problem, TooManyRequests, problem_response

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics", "/.well-known/jwks.json"})
# The files of /docs and the console (scripts, styles): one page loads several, and they are public.
EXEMPT_PREFIXES = ("/docs/static/", "/console/static/")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int


def admitted(tat: float, now: float, limit: int, window: float) -> Decision:
    """The decision for a request admitted at ``now`` that moved the key's arrival time to ``tat``."""
    interval = window / limit
    remaining = max(0, math.floor((window - (tat - now)) / interval + 1e-9))  # float slack
    return Decision(True, limit, remaining, math.ceil(tat - now), 0)


def refused(tat: float, now: float, limit: int, window: float) -> Decision:
    """The decision for a request refused at ``now`` while the key's arrival time is ``tat``."""
    allow_at = tat + window / limit - window
    return Decision(False, limit, 0, math.ceil(tat - now), max(1, math.ceil(allow_at - now)))


def gcra(tat: float | None, now: float, limit: int, window: float) -> tuple[Decision, float | None]:
    """The pure rule: the decision and the key's new arrival time (None: unchanged). The database runs
    the same arithmetic in :meth:`RateLimiter.hit`; this is its statement for the unit tests."""
    interval = window / limit
    start = max(tat if tat is not None else now, now)
    if start + interval - window > now:
        return refused(start, now, limit, window), None
    return admitted(start + interval, now, limit, window), start + interval


class RateLimiter:
    """GCRA cells in ``gateway.rate_limit_cells``, shared by every replica."""

    CLEANUP_EVERY = 1000

    def __init__(self, window_seconds: float, sessionmaker: Callable[[], async_sessionmaker[AsyncSession]]) -> None:
        self.window = window_seconds
        self._sessionmaker = sessionmaker  # read per call: tests swap the app's sessionmaker after startup
        self._hits = 0

    async def hit(self, key: str, limit: int) -> Decision:
        cells = RateLimitCell.__table__
        assert isinstance(cells, Table)
        interval = self.window / limit
        # The policy is part of the key: a changed limit or window starts its keys afresh.
        cell = f"{key}|{limit}/{self.window:g}"
        now = cast(func.extract("epoch", func.statement_timestamp()), Double)
        start = func.greatest(cells.c.tat, now)
        statement = (
            insert(cells)
            .values(key=cell, tat=now + interval)
            .on_conflict_do_update(
                index_elements=[cells.c.key],
                set_={"tat": start + interval},
                where=start + interval - self.window <= now,
            )
            .returning(cells.c.tat, now)
        )
        async with self._sessionmaker()() as session:
            row = (await session.execute(statement)).first()
            if row is None:
                current = (await session.execute(select(cells.c.tat, now).where(cells.c.key == cell))).one()
                decision = refused(float(current[0]), float(current[1]), limit, self.window)
            else:
                decision = admitted(float(row[0]), float(row[1]), limit, self.window)
            self._hits += 1
            if self._hits % self.CLEANUP_EVERY == 0:
                await session.execute(delete(cells).where(cells.c.tat < now))
            await session.commit()
        return decision


class RateLimitMiddleware:
    """Pure ASGI; runs inside the request-id middleware so a 429 carries the request id."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        verifier: TokenVerifier,
        user_limit: int,
        client_limit: int,
        anonymous_limit: int,
        client_addresses: ClientAddresses | None = None,
    ) -> None:
        self.app = app
        self.client_addresses = client_addresses or ClientAddresses(())
        self.limiter = limiter
        self.verifier = verifier
        self.limits = {"user": user_limit, "client": client_limit, "anonymous": anonymous_limit}

    async def _key(self, request: Request) -> tuple[str, str]:
        token = bearer_token(request)
        if token is not None:
            try:
                principal: Principal = await self.verifier.verify(token)
            except Problem:
                pass  # refused later with 401; counted against the address meanwhile
            else:
                request.state.principal = principal
                kind = "client" if principal.is_client else "user"
                return kind, principal.subject
        address = self.client_addresses.of(request) or "unknown"
        return "anonymous", f"ip:{address}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in EXEMPT_PATHS
            or scope["path"].startswith(EXEMPT_PREFIXES)
            or scope["method"] == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        kind, key = await self._key(request)
        decision = await self.limiter.hit(key, self.limits[kind])
        window = math.ceil(self.limiter.window)
        headers = [
            (b"ratelimit-policy", f'"{kind}";q={decision.limit};w={window}'.encode()),
            (b"ratelimit", f'"{kind}";r={decision.remaining};t={decision.reset_seconds}'.encode()),
        ]
        if not decision.allowed:
            problem = TooManyRequests(
                Text("请求过于频繁，请 {seconds} 秒后再试", "Too many requests; retry in {seconds} s"),
                seconds=decision.retry_after,
                headers={"Retry-After": str(decision.retry_after)},
            )
            response = problem_response(problem, request)
            response.raw_headers.extend(headers)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
