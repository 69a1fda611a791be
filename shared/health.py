"""``GET /healthz`` (the process is alive) and ``GET /readyz`` (it can do its work now).

Ready means every check passes: the database answers and its migrations are at head (or ahead: at a
revision this code does not have, which a newer release's migration Job wrote; expand-and-contract
migrations keep the schema usable by the release before, so a rolling upgrade's old pods keep serving
until the new ones replace them, docs/operations.md); the service can
sign in with its own client credentials (when it has them); each change feed it consumes is neither
failing (``feed_failures_before_unready`` polls in a row) nor lagging (the end of the feed last reached
more than ``feed_max_lag_seconds`` ago). ``/readyz`` lists every check, with why, both when ready (200)
and when not (503 problem+json with a ``checks`` member); the gateway's ``/healthz`` shows the detail.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.feed_consumer import FeedConsumer
from shared.i18n import Message
from shared.problems import ServiceUnavailable, problem_responses


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    service: str = Field(description="服务名 service name")


CheckStatus = Literal["ok", "failing", "lagging", "disabled", "not_configured"]


class ReadinessCheck(BaseModel):
    """One readiness check."""

    status: CheckStatus = Field(
        description="检查结果 ok; failing or lagging (not ready); disabled or not_configured (not counted)"
    )
    detail: str | None = Field(None, description="说明 why, in English (for operators)")
    behind_seconds: float | None = Field(None, description="落后秒数 feeds: since the end of the feed was last reached")
    caught_up_at: datetime | None = Field(None, description="追平时间 feeds: when the end of the feed was last reached")
    failures: int | None = Field(None, description="连续失败次数 feeds: polls in a row that failed")


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    service: str = Field(description="服务名 service name")
    migration: str | None = Field(description="数据库迁移版本 the schema's Alembic revision (= head)")
    checks: dict[str, ReadinessCheck] = Field(
        default_factory=dict,
        description="各项检查 database, credentials (service's own sign-in), feed:<source> (each consumed feed)",
    )


async def database_revision(engine: AsyncEngine, schema: str, timeout: float = 2.0) -> str | None:
    """The schema's current Alembic revision; raises when the database cannot be reached in time."""

    async def query() -> str | None:
        async with engine.connect() as conn:
            exists = await conn.scalar(text("SELECT to_regclass(:t)"), {"t": f'"{schema}".alembic_version'})
            if exists is None:
                return None
            revision = await conn.scalar(text(f'SELECT version_num FROM "{schema}".alembic_version'))
            return str(revision) if revision is not None else None

    return await asyncio.wait_for(query(), timeout)


SchemaState = Literal["at_head", "ahead", "behind"]


def schema_state(current: str | None, head: str | None, known: frozenset[str]) -> SchemaState:
    """Where the database's revision stands against this code's: at its head, ahead (a revision the code does
    not have: a newer release migrated), or behind (a revision the code has before its head, or none)."""
    if current == head:
        return "at_head"
    if current is not None and current not in known:
        return "ahead"
    return "behind"


def _error(exc: BaseException) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__


async def _database(request: Request, schema: str, timeout: float) -> tuple[ReadinessCheck, Message | None, str | None]:
    head: str | None = request.app.state.migration_head
    try:
        current = await database_revision(request.app.state.engine, schema, timeout)
    except Exception as exc:
        error = _error(exc)
        return (
            ReadinessCheck(status="failing", detail=f"database unreachable: {error}"),
            Message(f"数据库不可达（{error}）", f"database unreachable ({error})"),
            None,
        )
    state = schema_state(current, head, getattr(request.app.state, "migration_revisions", frozenset()))
    if state == "ahead":
        detail = f"database ahead of this code: at {current}, code at {head} (a newer release's migrations)"
        return ReadinessCheck(status="ok", detail=detail), None, current
    if state == "behind":
        return (
            ReadinessCheck(status="failing", detail=f"migrations not at head: database at {current}, code at {head}"),
            Message(
                f"数据库迁移未到最新（当前 {current or 'base'}，应为 {head or 'base'}）",
                f"migrations not at head (database at {current or 'base'}, code at {head or 'base'})",
            ),
            current,
        )
    return ReadinessCheck(status="ok"), None, current


async def _credentials(request: Request, timeout: float) -> tuple[ReadinessCheck, Message | None]:
    credentials = getattr(request.app.state, "service_credentials", None)
    if credentials is None:
        return ReadinessCheck(
            status="not_configured", detail="no client credentials: calls to other services are anonymous"
        ), None
    try:
        await asyncio.wait_for(credentials.token(), timeout)  # cached until shortly before it expires
    except Exception as exc:
        error = _error(exc)
        client = getattr(credentials, "client_id", "?")
        return (
            ReadinessCheck(status="failing", detail=f"cannot sign in as client {client}: {error}"),
            Message(f"无法以客户端 {client} 登录（{error}）", f"cannot sign in as client {client} ({error})"),
        )
    return ReadinessCheck(status="ok"), None


def _feed(consumer: FeedConsumer, settings: Any) -> tuple[ReadinessCheck, Message | None]:
    health = consumer.health(settings.feed_max_lag_seconds, settings.feed_failures_before_unready)
    check = ReadinessCheck(
        status=health.status,
        detail=health.last_error,
        behind_seconds=health.behind_seconds,
        caught_up_at=health.caught_up_at,
        failures=health.failures,
    )
    source = consumer.source
    if health.status == "failing":
        error = health.last_error or "?"
        return check, Message(
            f"{source} 变更事件流连续 {health.failures} 次读取失败（{error}）",
            f"the {source} feed failed {health.failures} polls in a row ({error})",
        )
    if health.status == "lagging":
        return check, Message(
            f"{source} 变更事件流落后 {health.behind_seconds} 秒",
            f"the {source} feed is {health.behind_seconds} s behind",
        )
    return check, None


def health_router(service: str, schema: str, *, liveness_path: str = "/healthz") -> APIRouter:
    """``liveness_path`` (alive) and ``/readyz`` (database, migrations, credentials, feeds)."""
    router = APIRouter(tags=["health"])

    @router.get(liveness_path, summary="存活检查 liveness", response_model=Liveness)
    async def healthz() -> Liveness:
        return Liveness(service=service)

    @router.get(
        "/readyz",
        summary="就绪检查 readiness: database and migrations, the service's own sign-in, the feeds it consumes",
        response_model=Readiness,
        responses=problem_responses(503),
    )
    async def readyz(request: Request) -> Readiness:
        settings = request.app.state.settings
        timeout = settings.readiness_timeout_seconds
        (database, database_problem, current), (credentials, credentials_problem) = await asyncio.gather(
            _database(request, schema, timeout), _credentials(request, timeout)
        )
        checks: dict[str, ReadinessCheck] = {"database": database, "credentials": credentials}
        problems = [p for p in (database_problem, credentials_problem) if p is not None]
        for consumer in getattr(request.app.state, "feeds", []):
            check, problem = _feed(consumer, settings)
            checks[f"feed:{consumer.source}"] = check
            if problem is not None:
                problems.append(problem)
        if problems:
            unready = ServiceUnavailable(
                Message("服务未就绪：{zh}", "Not ready: {en}"),
                zh="；".join(p.zh for p in problems),
                en="; ".join(p.en for p in problems),
            )
            unready.extra = {"checks": {name: c.model_dump(mode="json") for name, c in checks.items()}}
            raise unready
        return Readiness(service=service, migration=current, checks=checks)

    return router
