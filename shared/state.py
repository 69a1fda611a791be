"""What a service's app keeps in ``app.state`` (set up by ``shared.service_app``), typed: each service
extends ``ServiceState`` with its own settings and reads it through one accessor (e.g.
``services.compensation.state.compensation_state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    import httpx
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from shared.auth import TokenVerifier
    from shared.feed_consumer import FeedConsumer
    from shared.metrics import MetricReader
    from shared.service_auth import ServiceCredentials
    from shared.settings import ServiceSettings


class ServiceState(Protocol):
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_engine: AsyncEngine | None  # the read-only replica (database_read_url), None: reports read the primary
    read_sessionmaker: async_sessionmaker[AsyncSession] | None
    http: httpx.AsyncClient
    service_credentials: ServiceCredentials | None
    token_verifier: TokenVerifier
    migration_head: str | None
    service_name: str
    feeds: list[FeedConsumer]
    tracer_provider: TracerProvider | None  # None: tracing off (shared.tracing)
    migration_revisions: frozenset[str]  # every revision this code has (shared.health.schema_state)


class MetricsState(ServiceState, Protocol):
    """What ``/metrics`` reads (shared.metrics)."""

    settings: ServiceSettings
    metrics_schema: str
    metrics_outbox: Table | None
    metric_readers: list[MetricReader]


def app_state(source: HTTPConnection | Any) -> Any:
    """The app state of a request (or of the app itself, in a lifespan); each service casts it to its type."""
    app = source.app if isinstance(source, HTTPConnection) else source
    return app.state
