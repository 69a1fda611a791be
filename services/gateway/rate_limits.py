"""Rate limits per user, per API client and per address (anonymous), with the IETF headers.

GCRA (generic cell rate algorithm): each key has a theoretical arrival time; a request is admitted
while that time is at most one window ahead. Counters live in the gateway process: with N gateway
replicas, a caller gets at most N times the limit (stated in ``RateLimit-Policy`` per replica).
Responses carry ``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers); a refused
request gets 429 problem+json with ``Retry-After``. The verified principal is left in the request
state, so the token is checked once per request at the gateway. An anonymous caller's address is the
one :mod:`services.gateway.client_address` resolves (forwarded headers only from trusted proxies).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.client_address import ClientAddresses
from shared.auth import Principal, TokenVerifier, bearer_token
from shared.i18n import Message as Text
from shared.problems import Problem, TooManyRequests, problem_response

EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/.well-known/jwks.json"})
# The files of /docs and the console (scripts, styles): one page loads several, and they are public.
EXEMPT_PREFIXES = ("/docs/static/", "/console/static/")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int


class RateLimiter:
    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self._tat: dict[str, float] = {}

    def hit(self, key: str, limit: int, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        interval = self.window / limit
        tat = max(self._tat.get(key, now), now)
        allow_at = tat + interval - self.window
        if now < allow_at:
            return Decision(False, limit, 0, math.ceil(tat - now), max(1, math.ceil(allow_at - now)))
        new_tat = tat + interval
        self._tat[key] = new_tat
        if len(self._tat) > 100_000:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        remaining = max(0, math.floor((self.window - (new_tat - now)) / interval + 1e-9))  # float slack
        return Decision(True, limit, remaining, math.ceil(new_tat - now), 0)


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
        decision = self.limiter.hit(key, self.limits[kind])
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
