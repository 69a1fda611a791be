"""OpenTelemetry tracing of every service (issue #15): off by default, on with the standard settings.

On when ``OTEL_TRACES_EXPORTER`` names an exporter (``otlp`` — OTLP over HTTP to
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` — or ``console``) and
``OTEL_SDK_DISABLED`` is not ``true``. The rest is the SDK's own: ``OTEL_SERVICE_NAME`` (default
``shegong-<service>``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` / ``…_ARG``, the batch
processor's ``OTEL_BSP_*``. Unset, nothing is instrumented and nothing costs anything.

What is traced: each request the FastAPI app serves (the context taken from ``traceparent``), each call
out over the services' ``httpx`` client (feeds, step-ups, JWKS, tokens) and the gateway's ``aiohttp``
proxy session (both put ``traceparent`` on the request), and each SQL statement of the app's engine
(SQLAlchemy over asyncpg). One client request therefore makes one trace across gateway → service →
database. The gateway's request id (``X-Request-ID``, forwarded to the services) is the attribute
``shegong.request_id`` of every server span (:mod:`shared.request_context`), so a log line and its trace
find each other.

Each app gets its own tracer provider (no global one): tests build several apps in one process.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from opentelemetry.metrics import NoOpMeterProvider

if TYPE_CHECKING:  # the SDK and the instrumentations are imported only when tracing is on
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

EXCLUDED_URLS = "/metrics,/livez"  # scrapes and liveness probes: noise, not traces
_NO_METER = NoOpMeterProvider()


def exporters_from_environment() -> list[str]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names, none when unset or when the SDK is disabled."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")
    return [n.strip().lower() for n in names if n.strip() and n.strip().lower() != "none"]


def _exporter(name: str) -> SpanExporter:
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (otlp, console or none)")


def provider_for(service: str) -> TracerProvider | None:
    """The tracer provider of ``service``'s app, or None when tracing is off (the default)."""
    exporters = exporters_from_environment()
    if not exporters:
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: f"shegong-{service}"}
    provider = TracerProvider(resource=Resource.create({"service.namespace": "shegong", **attributes}))
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return provider


def instrument_app(app: Any, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS)


def instrument_engine(engine: Any, provider: TracerProvider) -> None:
    """Spans for the statements of one async engine (its sync engine's events)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    # The instrumentor itself instruments once per process (engines made after it, or one given); the
    # engine tracer it attaches is what each app needs, on its own engine and provider.
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = _NO_METER.get_meter("shegong").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]


def instrument_httpx(client: httpx.AsyncClient, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider, meter_provider=_NO_METER)


def aiohttp_trace_configs(provider: TracerProvider | None) -> list[aiohttp.TraceConfig]:
    """Trace configs for an ``aiohttp.ClientSession`` (the gateway's proxy); none when tracing is off."""
    if provider is None:
        return []
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config

    return [create_trace_config(tracer_provider=provider, meter_provider=_NO_METER)]
