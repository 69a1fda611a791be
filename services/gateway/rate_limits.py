"""Rate limits per user, per API client and per address (anonymous), with the IETF headers.

GCRA (generic cell rate algorithm, :mod:`services.gateway.domain.rate_limits`): each key has a theoretical
arrival time; a request is admitted while that time is at most one window ahead. The times live in
PostgreSQL (``gateway.rate_limit_cells``), moved by the database's clock, so the limit holds for the whole
deployment however many gateway replicas share it (issue #15; before, each process counted alone and N
replicas allowed N times the limit).

A replica does not make a round trip per request (issue #16: it was most of the gateway's own cost on a
cheap read): one conditional upsert *leases* a block of admissions (as many as fit, at most the key's
block: ``rate_limit_lease_share`` of its limit, at most ``rate_limit_lease_max``, at least 1), which the
replica hands out to that key's requests; concurrent requests of one key wait for one lease rather than
each taking its own. A block is used within one window of its lease. The overshoot this allows is
bounded: across R replicas at most R × (block − 1) admissions beyond what one shared cell admits, in any
span of time (``domain.rate_limits.overshoot_bound``): the default user limit (600 a minute, share 2 %)
leases blocks of 12, so three replicas admit at most 33 more (5.5 %) in the worst case; limits below
100 (share 2 %) lease blocks of 1, i.e. a round trip per request, exactly one shared cell. A refusal is
remembered until the key's next admission is due (nothing in the deployment can admit one sooner), so a
client hammering a spent limit costs no round trips either. Expired cells are deleted now and then by
whichever replica comes by. Responses carry ``RateLimit-Policy`` and ``RateLimit``
(draft-ietf-httpapi-ratelimit-headers); a refused request gets 429 problem+json with ``Retry-After``. The
verified principal is left in the request state, so the token is checked once per request at the
gateway. An anonymous caller's address is the one :mod:`services.gateway.client_address` resolves
(forwarded headers only from trusted proxies).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Double, Integer, Table, cast, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.client_address import ClientAddresses
from services.gateway.console.session import ACCESS_COOKIE
from services.gateway.domain.rate_limits import (
    FLOAT_SLACK,
    Block,
    Decision,
    admitted,
    allowed_at,
    block_size,
    gcra,
    refused,
)
from services.gateway.models import RateLimitCell
from shared.auth import Principal, TokenVerifier, bearer_token
from shared.i18n import Message as Text
from shared.problems import Problem, TooManyRequests, problem_response

__all__ = ["EXEMPT_PATHS", "Decision", "RateLimitMiddleware", "RateLimiter", "admitted", "gcra", "refused"]

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics", "/.well-known/jwks.json"})
# The files of /docs and the console (scripts, styles): one page loads several, and they are public.
EXEMPT_PREFIXES = ("/docs/static/", "/console/static/")
_KEYS_KEPT = 100_000  # keys this process remembers before it forgets the idle ones


@dataclass
class _Key:
    """What this process knows of one key: its current block, a refusal in force, a lease under way."""

    block: Block | None = None
    refused_tat: float | None = None  # the cell's arrival time when it refused
    refused_db_now: float = 0.0
    refused_local_at: float = 0.0
    refused_until: float = 0.0  # this process's monotonic clock: the next admission is due then
    pending: asyncio.Future[None] | None = None
    seen: float = field(default_factory=time.monotonic)


class RateLimiter:
    """GCRA cells in ``gateway.rate_limit_cells``, shared by every replica, leased in blocks."""

    CLEANUP_EVERY = 1000

    def __init__(
        self,
        window_seconds: float,
        sessionmaker: Callable[[], async_sessionmaker[AsyncSession]],
        *,
        lease_share: float = 0.0,
        lease_max: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window_seconds
        self._sessionmaker = sessionmaker  # read per call: tests swap the app's sessionmaker after startup
        self.lease_share = lease_share
        self.lease_max = lease_max
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self.leases = 0  # round trips to the cells (leases and refusals), for tests and profiles

    def block(self, limit: int) -> int:
        """The admissions one lease takes for a key of ``limit``."""
        return block_size(limit, self.lease_share, self.lease_max)

    async def hit(self, key: str, limit: int) -> Decision:
        # The policy is part of the key: a changed limit or window starts its keys afresh.
        cell = f"{key}|{limit}/{self.window:g}"
        state = self._keys.get(cell)
        if state is None:
            if len(self._keys) >= _KEYS_KEPT:
                self._forget_idle()
            state = self._keys[cell] = _Key()
        while True:
            local_now = self._clock()
            state.seen = local_now
            if state.refused_tat is not None and local_now < state.refused_until:
                db_now = state.refused_db_now + (local_now - state.refused_local_at)
                return refused(state.refused_tat, db_now, limit, self.window)
            block = state.block
            if block is not None and local_now - block.local_at < self.window:
                decision = block.take(local_now, limit, self.window)
                if decision is not None:
                    return decision
            if state.pending is not None:  # another request of this key is leasing: wait for its block
                await asyncio.shield(state.pending)
                continue
            pending = state.pending = asyncio.get_running_loop().create_future()
            try:
                return await self._lease(cell, limit, state)
            finally:
                state.pending = None
                pending.set_result(None)

    async def _lease(self, cell: str, limit: int, state: _Key) -> Decision:
        """One round trip: a block of admissions for ``cell`` (the first of them for this request), or a refusal."""
        cells = RateLimitCell.__table__
        assert isinstance(cells, Table)
        interval = self.window / limit
        size = self.block(limit)
        now = cast(func.extract("epoch", func.statement_timestamp()), Double)
        start = func.greatest(cells.c.tat, now)
        fits = func.floor((now + self.window - start) / interval + FLOAT_SLACK)
        granted = cast(func.greatest(1, func.least(size, fits)), Integer)
        statement = (
            insert(cells)
            .values(key=cell, tat=now + size * interval, granted=size)
            .on_conflict_do_update(
                index_elements=[cells.c.key],
                set_={"tat": start + granted * interval, "granted": granted},
                where=start + interval - self.window <= now,
            )
            .returning(cells.c.tat, cells.c.granted, now)
        )
        async with self._sessionmaker()() as session:
            row = (await session.execute(statement)).first()
            if row is None:
                current = (await session.execute(select(cells.c.tat, now).where(cells.c.key == cell))).one()
            self.leases += 1
            if self.leases % self.CLEANUP_EVERY == 0:
                await session.execute(delete(cells).where(cells.c.tat < now))
            await session.commit()
        local_at = self._clock()
        if row is None:
            tat, db_now = float(current[0]), float(current[1])
            state.block = None
            state.refused_tat, state.refused_db_now, state.refused_local_at = tat, db_now, local_at
            state.refused_until = local_at + (allowed_at(tat, limit, self.window) - db_now)
            return refused(tat, db_now, limit, self.window)
        state.refused_tat = None
        state.block = Block.leased(float(row[0]), int(row[1]), interval, float(row[2]), local_at)
        decision = state.block.take(local_at, limit, self.window)
        assert decision is not None  # a block holds at least one admission
        return decision

    def _forget_idle(self) -> None:
        now = self._clock()
        self._keys = {
            cell: state
            for cell, state in self._keys.items()
            if state.pending is not None or now - state.seen < self.window or now < state.refused_until
        }


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
        cookie = request.cookies.get(ACCESS_COOKIE)
        if cookie is not None:
            # A console page: counted against its signed-in user, not the address a whole office shares. Only
            # counted: the cookie authenticates nothing here (no principal is kept for the API's dependencies).
            try:
                signed_in = await self.verifier.verify(cookie)
            except Problem:
                pass
            else:
                return "user", signed_in.subject
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
