"""What a service's app keeps in ``app.state`` (set up by ``shared.service_app``), typed, so code reads
``state_of(request).engine`` instead of an untyped attribute."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from fastapi import FastAPI, Request

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


def state_of(request: Request) -> ServiceState:
    return cast("ServiceState", request.app.state)


def app_state(app: FastAPI) -> ServiceState:
    return cast("ServiceState", app.state)
