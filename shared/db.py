"""Database access: one async engine per process, one session per request.

The session dependency commits when the request handler returns and rolls back when it raises, so
domain code only ``flush()``es; the outbox event of a change is thus in the same transaction as the
change itself (ARCHITECTURE rule 4).

When PostgreSQL cannot be reached (down, restarting, refusing connections, the pool exhausted) a request
gets 503 problem+json with ``Retry-After``, never a 500 (:class:`DatabaseUnavailableMiddleware`), and
the process recovers by itself when the database is back: every connection is pinged as it leaves the
pool, a disconnect invalidates the whole pool, and connecting gives up after
``db_connect_timeout_seconds`` instead of asyncpg's minute.

Read-only reports take :data:`ReadSessionDep` instead: a session on the replica of ``database_read_url``
when it is set (CloudNativePG's ``-ro`` service, deploy/k8s), else on the primary; its transaction is
``READ ONLY`` either way and is rolled back at the end, so a report can never write.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import ARRAY, ColumnElement, MetaData, any_, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import QueryableAttribute
from starlette.types import ASGIApp, Scope

from shared.i18n import Message
from shared.problems import ErrorToProblemMiddleware, Problem, ServiceUnavailable
from shared.settings import ServiceSettings

_log = logging.getLogger("shegong.db")


def among(column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """``column = ANY(:values)``, the values sent as ONE array parameter.

    ``column.in_(values)`` sends a parameter per value, and asyncpg refuses a statement with more than
    32,767: a 100,000-row import checking its ID numbers against the table failed on that. Use this
    wherever the list comes from a file or a whole region.
    """
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))


# Names PostgreSQL itself would give, so migrations and the database agree (see polar's base model).
NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_name)s_idx",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def schema_metadata(schema: str) -> MetaData:
    """Metadata of one service: all its tables in its own PostgreSQL schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def make_engine(settings: ServiceSettings, url: str | None = None, *, read_only: bool = False) -> AsyncEngine:
    """The engine of ``url`` (default the primary, ``database_url``); ``read_only``: every transaction is."""
    server_settings = {"application_name": "shegong", "timezone": "UTC"}
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    return create_async_engine(
        url or settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings, "timeout": settings.db_connect_timeout_seconds},
    )


def make_read_engine(settings: ServiceSettings) -> AsyncEngine | None:
    """The read-only replica's engine when ``database_read_url`` is set, else ``None`` (reports use the primary)."""
    if not settings.database_read_url:
        return None
    return make_engine(settings, settings.database_read_url, read_only=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session: commit on success, roll back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response is sent, so a failed commit is an error
# response and never a 2xx for a change that was lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Session of a read-only report: the replica when configured, else the primary; READ ONLY, never committed."""
    maker: async_sessionmaker[AsyncSession] | None = getattr(request.app.state, "read_sessionmaker", None)
    async with (maker or request.app.state.sessionmaker)() as session:
        try:
            await session.execute(text("SET TRANSACTION READ ONLY"))
            yield session
        finally:
            await session.rollback()


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


# SQLSTATEs meaning "no database to talk to now": connection exceptions (class 08), the server shutting
# down or starting up (57P01–57P03), too many connections (53300), a standby after a failover (25006).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300", "25006")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        for nested in (current.__cause__, current.__context__, getattr(current, "orig", None)):
            if isinstance(nested, BaseException):
                stack.append(nested)


def _raised_by_the_driver(exc: BaseException) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(("asyncpg", "sqlalchemy"))
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def database_unavailable(exc: BaseException) -> str | None:
    """``"unreachable"`` or ``"busy"`` when ``exc`` means the database cannot serve now, else ``None``."""
    for cause in _causes(exc):
        if isinstance(cause, PoolTimeoutError):
            return "busy"  # every pooled connection in use for pool_timeout seconds
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return "unreachable"
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return "busy" if sqlstate == "53300" else "unreachable"
        # Refused, reset, timed out, no such host: socket errors of the driver (not of anything else).
        if isinstance(cause, OSError) and _raised_by_the_driver(cause):
            return "unreachable"
    return None


DATABASE_UNREACHABLE = Message(
    "数据库暂时无法访问，请稍后重试", "The database cannot be reached right now; try again shortly"
)
DATABASE_BUSY = Message("数据库繁忙，请稍后重试", "The database is busy; try again shortly")


class DatabaseUnavailableMiddleware(ErrorToProblemMiddleware):
    """Answers 503 problem+json with ``Retry-After`` when a request fails because the database is away.

    Installed twice: inside the unexpected-error middleware (errors of the routes) and just inside the
    request-id middleware (errors of the middlewares that use the database, e.g. idempotency keys).
    """

    def __init__(self, app: ASGIApp, retry_after_seconds: int = 5) -> None:
        super().__init__(app)
        self.retry_after = retry_after_seconds

    def problem_for(self, exc: Exception, scope: Scope) -> Problem | None:
        kind = database_unavailable(exc)
        if kind is None:
            return None
        _log.warning(
            "database %s: %s", kind, type(exc).__name__, extra={"path": scope.get("path"), "error": str(exc)[:200]}
        )
        return ServiceUnavailable(
            DATABASE_BUSY if kind == "busy" else DATABASE_UNREACHABLE,
            headers={"Retry-After": str(self.retry_after)},
        )
