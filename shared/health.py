"""``GET /healthz`` (the process is alive) and ``GET /readyz`` (database reachable, migrations at head)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.i18n import Message
from shared.problems import ServiceUnavailable, problem_responses


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"
    service: str = Field(description="服务名 service name")


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    service: str = Field(description="服务名 service name")
    migration: str | None = Field(description="数据库迁移版本 the schema's Alembic revision (= head)")


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


def health_router(service: str, schema: str, *, liveness_path: str = "/healthz") -> APIRouter:
    """``liveness_path`` (alive) and ``/readyz`` (database reachable, migrations at head)."""
    router = APIRouter(tags=["health"])

    @router.get(liveness_path, summary="存活检查 liveness", response_model=Liveness)
    async def healthz() -> Liveness:
        return Liveness(service=service)

    @router.get(
        "/readyz",
        summary="就绪检查 readiness: database reachable and migrations at head",
        response_model=Readiness,
        responses=problem_responses(503),
    )
    async def readyz(request: Request) -> Readiness:
        head: str | None = request.app.state.migration_head
        try:
            current = await database_revision(request.app.state.engine, schema)
        except Exception as exc:
            raise ServiceUnavailable(
                Message("数据库不可达：{error}", "Database unreachable: {error}"), error=type(exc).__name__
            ) from exc
        if current != head:
            raise ServiceUnavailable(
                Message(
                    "数据库迁移未到最新：当前 {current}，应为 {head}",
                    "Migrations not at head: database at {current}, code at {head}",
                ),
                current=current or "base",
                head=head or "base",
            )
        return Readiness(service=service, migration=current)

    return router
