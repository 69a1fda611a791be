"""What a service's app keeps in ``app.state`` (set up by ``shared.service_app``), typed: each service
extends ``ServiceState`` with its own settings and reads it through one accessor (e.g.
``services.compensation.state.compensation_state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from shared.auth import TokenVerifier
    from shared.service_auth import ServiceCredentials


class ServiceState(Protocol):
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_engine: AsyncEngine | None  # the read-only replica (database_read_url), None: reports read the primary
    read_sessionmaker: async_sessionmaker[AsyncSession] | None
    http: httpx.AsyncClient
    service_credentials: ServiceCredentials | None
    token_verifier: TokenVerifier
    migration_head: str | None
    migration_revisions: frozenset[str]  # every revision this code has (shared.health.schema_state)


def app_state(source: HTTPConnection | Any) -> Any:
    """The app state of a request (or of the app itself, in a lifespan); each service casts it to its type."""
    app = source.app if isinstance(source, HTTPConnection) else source
    return app.state
