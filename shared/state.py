"""What a service's app keeps in ``app.state`` (set up by ``shared.service_app``), typed: each service
extends ``ServiceState`` with its own settings and reads it through one accessor (e.g.
``services.compensation.state.compensation_state``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from shared.auth import TokenVerifier
    from shared.service_auth import ServiceCredentials


class ServiceState(Protocol):
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    service_credentials: ServiceCredentials | None
    token_verifier: TokenVerifier
    migration_head: str | None
