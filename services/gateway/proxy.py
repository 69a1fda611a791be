"""Forwarding ``/api/v1/<service>/…`` to the services over one pooled ``aiohttp.ClientSession``.

aiohttp, not httpx, on this path: measured on a 2-core machine (wrk, 64 connections) a FastAPI proxy on
one shared ``httpx.AsyncClient`` forwarded 610 requests/s, on ``aiohttp`` 4,900 (encode/httpx#3215).
Bodies stream both ways; small ones are read whole, which is cheaper than chunking them. Hop-by-hop
headers (RFC 9110 §7.6.1) are dropped, ``X-Request-ID`` and ``X-Forwarded-*`` passed on (a caller's own
``X-Forwarded-*`` only from a trusted proxy, :mod:`services.gateway.client_address`). A service that
is down answers 503 at once; one that does not answer within the read timeout, 504: never a hang.
A service with several replicas (a comma-separated URL setting) gets its requests in turn, a replica that
refuses connections skipped (:mod:`services.gateway.upstreams`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable

import aiohttp
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from services.gateway.client_address import ClientAddresses
from services.gateway.state import gateway_state
from services.gateway.upstreams import Balancer
from shared.auth import Principal, bearer_token
from shared.i18n import Message
from shared.problems import BadGateway, GatewayTimeout, NotFound, Problem, ServiceUnavailable, problem_response
from shared.request_context import current_request_id

API_PREFIX = "/api/v1/"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Dropped on the way in: recomputed by aiohttp or set by the gateway.
_REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "content-length",
    "x-request-id",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-prefix",
}
# Dropped on the way out: uvicorn sets its own date; the request-id middleware sets the id.
_RESPONSE_DROP = HOP_BY_HOP | {"date", "server", "x-request-id"}
_RESPONSE_DROP_BYTES = frozenset(name.encode("latin-1") for name in _RESPONSE_DROP)
# The request headers forward_request_headers reads (their first value), besides passing them on or not.
_READ_FIRST = frozenset({"host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
READ_WHOLE_REQUEST = 1 << 20  # bodies up to 1 MiB are read and sent with a Content-Length
READ_WHOLE_RESPONSE = 1 << 18  # responses up to 256 KiB are read and sent whole

# An idle upstream connection is kept this long for reuse; the services keep theirs open longer
# (shared.serve.KEEP_ALIVE_SECONDS), so the gateway never sends on a connection the service is closing.
UPSTREAM_IDLE_SECONDS = 30


def make_proxy_session(
    max_connections: int,
    connect_timeout: float,
    read_timeout: float,
    trace_configs: list[aiohttp.TraceConfig] | None = None,
) -> aiohttp.ClientSession:
    """The gateway's one forwarding session; the lifespan creates and closes it. ``trace_configs``: the
    OpenTelemetry client spans and ``traceparent`` (``shared.tracing``), when tracing is on."""
    connector = aiohttp.TCPConnector(
        limit=max_connections, limit_per_host=max_connections, keepalive_timeout=UPSTREAM_IDLE_SECONDS
    )
    timeout = aiohttp.ClientTimeout(
        total=None, connect=connect_timeout, sock_connect=connect_timeout, sock_read=read_timeout
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=trace_configs or None,
    )


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[str]:
    """Header names listed in ``Connection``: hop-by-hop too (RFC 9110 §7.6.1)."""
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.decode("latin-1").split(",") if t.strip())
    return tokens


def forwarded_request_headers(request: Request, service: str) -> list[tuple[str, str]]:
    scope = request.scope
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    tokens = _connection_tokens(raw)
    drop = _REQUEST_DROP | tokens if tokens else _REQUEST_DROP
    # One pass over the headers (this runs for every proxied request): what is passed on, in order, and
    # the first value of each header read below.
    headers: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for k, v in raw:
        name = k.decode("latin-1")
        lowered = name.lower()
        if lowered in _READ_FIRST and lowered not in seen:
            seen[lowered] = v.decode("latin-1")
        if lowered not in drop:
            headers.append((name, v.decode("latin-1")))
    client = scope.get("client")
    client_host = client[0] if client else ""
    resolver: ClientAddresses | None = getattr(request.app.state, "client_addresses", None)
    trusted = resolver is not None and resolver.peer_is_trusted(request)
    # What a caller says of itself in X-Forwarded-* is passed on only from a proxy we trust.
    prior = seen.get("x-forwarded-for") if trusted else None
    headers.append(("X-Forwarded-For", f"{prior}, {client_host}" if prior else client_host))
    proto = seen.get("x-forwarded-proto") if trusted else None
    host = seen.get("x-forwarded-host") if trusted else None
    headers.append(("X-Forwarded-Proto", proto or scope.get("scheme", "http")))
    headers.append(("X-Forwarded-Host", host or seen.get("host", "")))
    headers.append(("X-Forwarded-Prefix", f"{API_PREFIX}{service}"))
    request_id = current_request_id()
    if request_id:
        headers.append(("X-Request-ID", request_id))
    return headers


def _response_headers(upstream: aiohttp.ClientResponse) -> list[tuple[bytes, bytes]]:
    raw = upstream.raw_headers
    tokens = _connection_tokens(raw)
    drop = _RESPONSE_DROP_BYTES | {t.encode("latin-1") for t in tokens} if tokens else _RESPONSE_DROP_BYTES
    return [(lowered, v) for k, v in raw if (lowered := k.lower()) not in drop]


async def _request_body(request: Request) -> bytes | AsyncIterator[bytes] | None:
    length = request.headers.get("content-length")
    if length is None and "transfer-encoding" not in request.headers:
        return None
    if length is not None and length.isdigit() and int(length) <= READ_WHOLE_REQUEST:
        return await request.body()
    return request.stream()


async def forward(request: Request) -> Response:
    """The catch-all endpoint of ``/api/v1/{service}/{path}``."""
    upstreams: dict[str, str] = gateway_state(request).upstreams
    session: aiohttp.ClientSession = gateway_state(request).proxy_session
    raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    rest = raw_path.decode("latin-1")[len(API_PREFIX) :]
    service, _, tail = rest.partition("/")
    configured = upstreams.get(service)
    if configured is None:
        return problem_response(
            NotFound(Message("没有这个服务：{service}", "No such service: {service}"), service=service), request
        )
    # The gateway checks the token too (the service checks it again): a bad token goes no further.
    if bearer_token(request) is not None and not isinstance(getattr(request.state, "principal", None), Principal):
        try:
            request.state.principal = await gateway_state(request).token_verifier.verify(bearer_token(request) or "")
        except Problem as exc:
            return problem_response(exc, request)
    query = request.scope.get("query_string", b"")
    suffix = f"/v1/{tail}" + ("?" + query.decode("latin-1") if query else "")
    sent = await _request_body(request)
    balancer: Balancer = gateway_state(request).balancer
    candidates = balancer.order(configured)
    for attempt, base in enumerate(candidates, start=1):
        try:
            upstream = await session.request(
                request.method,
                URL(base + suffix, encoded=True),
                headers=forwarded_request_headers(request, service),
                data=sent,
                allow_redirects=False,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return problem_response(_timeout(service, request), request)
        except aiohttp.ClientConnectorError:
            # Refused: nothing was sent, so the next replica may take it (a streamed body cannot be replayed).
            balancer.refused(base)
            if attempt < len(candidates) and not _is_stream(sent):
                continue
            return problem_response(_unavailable(service), request)
        except aiohttp.ClientConnectionError:
            return problem_response(_unavailable(service), request)
        balancer.answered(base)
        break
    else:  # no replica configured
        return problem_response(_unavailable(service), request)
    headers = _response_headers(upstream)
    if upstream.content_length is not None and upstream.content_length <= READ_WHOLE_RESPONSE:
        try:
            body = await upstream.read()
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return problem_response(_timeout(service, request), request)
        except aiohttp.ClientError:
            return problem_response(_bad_gateway(service), request)
        finally:
            upstream.release()
        response = Response(content=body, status_code=upstream.status)
        response.raw_headers = headers
        return response

    async def stream() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.content.iter_any():
                yield chunk
        finally:
            upstream.release()

    streaming = StreamingResponse(stream(), status_code=upstream.status)
    streaming.raw_headers = headers
    return streaming


class ProxyRoute:
    """Pure ASGI, inside the rate limits: ``/api/v1/<service>/…`` of a configured service goes straight to
    :func:`forward`'s route instead of through the router, which tried every one of the gateway's own
    routes first (the catch-all comes last so that ``/api/v1/auth/…`` and the others stay the gateway's):
    a tenth of the gateway's time on a cheap read (issue #16). What the route answers is unchanged; a method
    it does not take (405) and a POST with an ``Idempotency-Key`` (the gateway's idempotency keys) still go
    the long way."""

    def __init__(self, app: ASGIApp, *, route: Route, services: Collection[str]) -> None:
        self.app = app
        self.route = route
        self.methods: frozenset[str] = frozenset(route.methods or ())
        self.prefixes = tuple(f"{API_PREFIX}{service}/" for service in services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(self.prefixes)
            or scope["method"] not in self.methods  # the router's 405 problem
            or (scope["method"] == "POST" and any(name == b"idempotency-key" for name, _ in scope["headers"]))
        ):
            await self.app(scope, receive, send)
            return
        service, _, path = scope["path"][len(API_PREFIX) :].partition("/")
        scope["endpoint"] = forward
        scope["path_params"] = {"service": service, "path": path}
        scope["route"] = self.route  # the metrics' route template, as the router would have set it
        await self.route.app(scope, receive, send)


def _is_stream(body: bytes | AsyncIterator[bytes] | None) -> bool:
    return body is not None and not isinstance(body, bytes)


def _unavailable(service: str) -> Problem:
    return ServiceUnavailable(Message("服务 {service} 暂不可用", "Service {service} is unavailable"), service=service)


def _timeout(service: str, request: Request) -> Problem:
    return GatewayTimeout(
        Message("服务 {service} 在 {seconds} 秒内未应答", "Service {service} did not answer within {seconds} s"),
        service=service,
        seconds=gateway_state(request).settings.proxy_read_timeout_seconds,
    )


def _bad_gateway(service: str) -> Problem:
    return BadGateway(
        Message("服务 {service} 的应答不完整", "Service {service} sent an incomplete answer"), service=service
    )
