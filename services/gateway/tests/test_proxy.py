"""Forwarding through the gateway over real sockets: headers, bodies both ways, down and hung services.

The upstream is a small echo app served by uvicorn on a loopback port: it reports exactly what arrived,
which none of our services does. The gateway itself runs in-process with its real aiohttp session.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conftest import InProcessService, ServiceFactory
from deploy.local.postgres import free_port
from services.gateway.tests.conftest import make_account


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
            "body_length": len(body),
            "body_sum": sum(body) % 65521,
        },
        headers={"set-cookie": "a=1", "x-upstream": "yes", "connection": "keep-alive", "keep-alive": "timeout=5"},
    )


async def big(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(64):
            yield bytes([i % 256]) * 16384  # 1 MiB in all, streamed

    return StreamingResponse(chunks(), media_type="application/octet-stream")


echo_app = Starlette(
    routes=[Route("/v1/big", big), Route("/v1/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE"])]
)


@contextlib.asynccontextmanager
async def serve(app: Starlette) -> AsyncIterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def blackhole() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: a hung service."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest_asyncio.fixture
async def proxied(service_app: ServiceFactory) -> AsyncIterator[InProcessService]:
    async with serve(echo_app) as up, blackhole() as hung:
        down = free_port()  # nothing listens here
        svc = await service_app(
            "gateway",
            roster_url=f"http://127.0.0.1:{up}",
            compensation_url=f"http://127.0.0.1:{down}",
            evaluation_url=f"http://127.0.0.1:{hung}",
            proxy_read_timeout_seconds=0.5,
            health_timeout_seconds=0.5,
        )
        svc.app.state.upstreams = svc.app.state.settings.upstreams()
        yield svc


@pytest.fixture
def gateway(proxied: InProcessService) -> httpx.AsyncClient:
    return proxied.client


async def test_path_query_and_method_arrive_unchanged(gateway: httpx.AsyncClient) -> None:
    response = await gateway.delete("/api/v1/roster/workers/%E5%BC%A0%20三?region=330302&a=1&a=2")
    seen = response.json()
    assert response.status_code == 200
    assert seen["method"] == "DELETE"
    assert seen["path"] == "/v1/workers/%E5%BC%A0%20%E4%B8%89"
    assert seen["query"] == "region=330302&a=1&a=2"


async def test_request_id_and_forwarded_headers_pass_hop_by_hop_do_not(
    gateway: httpx.AsyncClient, proxied: InProcessService
) -> None:
    token = (await make_account(proxied, ("county_admin", "330302"))).token
    response = await gateway.get(
        "/api/v1/roster/x",
        headers={
            "X-Request-ID": "trace-proxy-1",
            "Authorization": f"Bearer {token}",
            "Connection": "keep-alive, X-Private",
            "X-Private": "hop",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic xyz",
        },
    )
    headers = {k.lower(): v for k, v in response.json()["headers"]}
    assert headers["x-request-id"] == "trace-proxy-1"
    assert headers["authorization"] == f"Bearer {token}"  # end-to-end headers pass
    assert headers["x-forwarded-prefix"] == "/api/v1/roster"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    for hop in ("x-private", "keep-alive", "te", "proxy-authorization"):
        assert hop not in headers, hop
    # And on the way back: the upstream's hop-by-hop headers are dropped, its own kept.
    assert response.headers["x-request-id"] == "trace-proxy-1"
    assert response.headers["x-upstream"] == "yes"
    assert response.headers["set-cookie"] == "a=1"
    assert "keep-alive" not in response.headers


async def test_large_bodies_stream_both_ways_intact(gateway: httpx.AsyncClient) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB: above the read-whole limit, so it streams chunked

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]

    sent = await gateway.post("/api/v1/roster/upload", content=stream())
    assert sent.json()["body_length"] == len(payload)
    assert sent.json()["body_sum"] == sum(payload) % 65521
    got = await gateway.get("/api/v1/roster/big")
    assert len(got.content) == 64 * 16384
    assert got.content[16384 * 5] == 5


async def test_service_down_is_503_problem_at_once(gateway: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await gateway.get("/api/v1/compensation/payroll-runs", headers={"Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Service compensation is unavailable"
    assert time.monotonic() - started < 2.0  # refused connections are not retried until a timeout


async def test_hung_service_is_504_problem_after_the_read_timeout_not_a_hang(gateway: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await gateway.get("/api/v1/evaluation/cycles")
    assert response.status_code == 504
    assert response.json()["title"] == "上游服务超时"
    assert time.monotonic() - started < 5.0  # read timeout is 0.5 s


async def test_unknown_service_is_404_problem(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/payments/x")
    assert response.status_code == 404
    assert response.json()["detail"] == "没有这个服务：payments"


async def test_suite_health_reports_each_service(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/healthz")
    body = response.json()
    assert response.status_code == 503  # compensation is down, evaluation hangs
    assert body["status"] == "degraded"
    assert body["services"]["gateway"]["status"] == "ready"
    assert body["services"]["compensation"]["status"] == "unavailable"
    assert body["services"]["evaluation"]["status"] == "unavailable"
    # The echo upstream has no /readyz (404): not ready either.
    assert body["services"]["roster"]["status"] == "unavailable"


async def test_a_bad_token_is_refused_at_the_gateway_and_never_forwarded(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/v1/roster/x", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "headers" not in response.json()  # the echo upstream never saw it


async def test_a_callers_own_forwarded_headers_are_not_passed_on_unless_from_a_trusted_proxy(
    gateway: httpx.AsyncClient,
) -> None:
    spoofed = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    headers = {k.lower(): v for k, v in (await gateway.get("/api/v1/roster/x", headers=spoofed)).json()["headers"]}
    assert headers["x-forwarded-for"] == "127.0.0.1"  # the peer only
    assert headers["x-forwarded-host"] == "gateway.test"
    assert headers["x-forwarded-proto"] == "http"


async def test_a_trusted_proxys_forwarded_chain_is_extended(service_app: ServiceFactory) -> None:
    async with serve(echo_app) as up:
        svc = await service_app("gateway", roster_url=f"http://127.0.0.1:{up}", trusted_proxies=["127.0.0.0/8"])
        svc.app.state.upstreams = svc.app.state.settings.upstreams()
        answer = await svc.client.get(
            "/api/v1/roster/x", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        )
    headers = {k.lower(): v for k, v in answer.json()["headers"]}
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"


def replica_app(name: str) -> Starlette:
    async def who(request: Request) -> Response:
        return JSONResponse({"replica": name, "method": request.method, "body_length": len(await request.body())})

    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ready", "migration": "head"})

    return Starlette(routes=[Route("/readyz", ready), Route("/v1/{rest:path}", who, methods=["GET", "POST"])])


async def test_replicas_take_turns_and_one_that_is_down_is_skipped(service_app: ServiceFactory) -> None:
    """Issue #15: a service's URL setting names several replicas; the gateway takes them in turn, and a
    replica that refuses connections is skipped (a POST too: nothing was sent to it), not answered 503."""
    async with serve(replica_app("a")) as a, serve(replica_app("b")) as b:
        down = free_port()
        urls = [f"http://127.0.0.1:{p}" for p in (a, down, b)]
        svc = await service_app("gateway", roster_url=",".join(f"{u}/" for u in urls), upstream_cooldown_seconds=60)
        svc.app.state.upstreams = svc.app.state.settings.upstreams()
        assert svc.app.state.upstreams["roster"] == ",".join(urls)
        seen = []
        for n in range(9):
            method = "POST" if n % 3 == 1 else "GET"
            response = await svc.client.request(method, "/api/v1/roster/who", content=b"x" * n)
            assert response.status_code == 200, response.text
            assert response.json()["body_length"] == n
            seen.append(response.json()["replica"])
        assert seen.count("a") >= 4
        assert seen.count("b") >= 4
        assert svc.app.state.balancer.down() == [urls[1]]  # skipped from its first refusal on
        health = (await svc.client.get("/healthz")).json()["services"]["roster"]
        assert health["status"] == "unavailable"
        assert urls[1] in health["detail"]
        assert urls[0] not in health["detail"]


async def test_every_replica_down_is_503(service_app: ServiceFactory) -> None:
    downs = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    svc = await service_app("gateway", roster_url=",".join(downs))
    svc.app.state.upstreams = svc.app.state.settings.upstreams()
    response = await svc.client.get("/api/v1/roster/who")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(svc.app.state.balancer.down()) == sorted(downs)


async def test_proxied_requests_take_the_proxy_route_directly_and_keep_its_answers(proxied: InProcessService) -> None:
    """Issue #16: /api/v1/<service>/… skips the router (services.gateway.proxy.ProxyRoute); the metrics still
    count it under the proxy's route template, a method it does not take is still 405, and a POST with an
    Idempotency-Key still goes through the gateway's idempotency keys (replayed the second time)."""
    from services.gateway.proxy import ProxyRoute
    from shared.metrics import HTTP_REQUESTS

    template = "/api/v1/{service}/{path}"  # the route template, as through the router
    counted = HTTP_REQUESTS.labels("gateway", "GET", template, "200")
    before = counted._value.get()
    assert (await proxied.client.get("/api/v1/roster/meta/enums")).status_code == 200
    assert counted._value.get() == before + 1
    assert ProxyRoute in [m.cls for m in proxied.app.user_middleware]  # type: ignore[comparison-overlap]
    assert (await proxied.client.request("TRACE", "/api/v1/roster/x")).status_code == 405
    assert (await proxied.client.get("/api/v1/nowhere/x")).status_code == 404  # not a service: the router's way
    user = await make_account(proxied, ("worker", "330302001001"))
    headers = {**user.headers, "Idempotency-Key": "proxy-route-1"}
    first = await proxied.client.post("/api/v1/roster/visits", headers=headers, json={"n": 1})
    again = await proxied.client.post("/api/v1/roster/visits", headers=headers, json={"n": 1})
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotency-replayed") == "true"
    assert again.content == first.content


def test_services_keep_idle_connections_open_longer_than_the_gateway_reuses_them() -> None:
    """The keep-alive race: a service that closes an idle connection while the gateway sends on it answers
    nothing, and the gateway answers 503. The service side must outlast the gateway's pool."""
    from services.gateway.proxy import UPSTREAM_IDLE_SECONDS
    from shared.serve import KEEP_ALIVE_SECONDS

    assert KEEP_ALIVE_SECONDS > UPSTREAM_IDLE_SECONDS
