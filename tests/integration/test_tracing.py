"""Tracing (issue #15): off unless the OTEL_* settings ask; when on, one client request is one trace
across the gateway, its proxy call, the service behind it and their SQL, with the gateway's request id
on the server spans. The roster is served over real HTTP (the gateway's proxy speaks HTTP), in-process so
that one in-memory exporter sees both sides."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from conftest import ServiceFactory, bearer
from deploy.local.postgres import free_port
from services.gateway.tests.conftest import make_account
from shared import tracing
from shared.request_context import REQUEST_ID_ATTRIBUTE


def test_tracing_is_off_unless_the_standard_settings_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    assert tracing.provider_for("roster") is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert tracing.provider_for("roster") is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    provider = tracing.provider_for("roster")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "shegong-roster"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "roster-zj")
    named = tracing.provider_for("roster")
    assert named is not None
    assert named.resource.attributes["service.name"] == "roster-zj"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.provider_for("roster") is None
    monkeypatch.setenv("OTEL_SDK_DISABLED", "false")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="zipkin"):
        tracing.provider_for("roster")


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "provider_for", lambda service: provider)
    return exporter


async def serve(app: FastAPI) -> AsyncGenerator[str, None]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(250):  # uvicorn says it started by a flag only
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def route_of(span: ReadableSpan) -> str:
    return str((span.attributes or {}).get("http.route", ""))


async def test_one_trace_across_gateway_service_and_database(
    service_app: ServiceFactory, spans: InMemorySpanExporter
) -> None:
    roster = await service_app("roster")
    served = serve(roster.app)
    roster_url = await anext(served)
    try:
        gateway = await service_app("gateway", roster_url=roster_url)
        gateway.app.state.upstreams = {**gateway.app.state.upstreams, "roster": roster_url}
        account = await make_account(gateway, ("province_admin", "330000"))
        spans.clear()
        response = await gateway.client.get(
            "/api/v1/roster/regions/330000", headers={**bearer(account.token), "X-Request-ID": "trace-e2e-0001"}
        )
        assert response.status_code in (200, 404), response.text
    finally:
        await served.aclose()
    finished = spans.get_finished_spans()
    entry = [s for s in finished if s.kind == SpanKind.SERVER and route_of(s) == "/api/v1/{service}/{path:path}"]
    behind = [s for s in finished if s.kind == SpanKind.SERVER and route_of(s) == "/v1/regions/{code}"]
    assert len(entry) == 1, [(s.name, s.attributes) for s in finished]
    assert len(behind) == 1
    gateway_span, roster_span = entry[0], behind[0]
    trace_id = gateway_span.context.trace_id
    assert roster_span.context.trace_id == trace_id  # one trace, gateway → service
    proxy_calls = [s for s in finished if s.kind == SpanKind.CLIENT and s.context.trace_id == trace_id and s.parent]
    assert roster_span.parent is not None
    assert roster_span.parent.span_id in {s.context.span_id for s in proxy_calls}  # the proxy's call is its parent
    sql = [s for s in finished if (s.attributes or {}).get("db.system") == "postgresql"]
    assert any(s.context.trace_id == trace_id for s in sql)  # the statements are in it too
    assert (gateway_span.attributes or {}).get(REQUEST_ID_ATTRIBUTE) == "trace-e2e-0001"
    assert (roster_span.attributes or {}).get(REQUEST_ID_ATTRIBUTE) == "trace-e2e-0001"  # forwarded
