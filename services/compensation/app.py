"""Compensation service app factory: policy profiles, pay scales, payroll, bonus, step-ups (POLICY C)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.compensation.api import ROUTERS
from services.compensation.models import Base
from services.compensation.payroll_runs import reap_forever
from services.compensation.projections import compensation_feeds
from services.compensation.settings import Settings
from shared.service_app import create_service_app


@contextlib.asynccontextmanager
async def payroll_reaper(app: FastAPI) -> AsyncIterator[None]:
    """Runs whose calculating process died are failed within a lease and a reaper interval."""
    settings: Settings = app.state.settings
    task = asyncio.create_task(reap_forever(app.state.engine, settings.payroll_reaper_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name="compensation",
        title="shegong compensation 社工薪酬服务",
        description="专职社区工作者薪酬：政策参数、三岗十八级薪酬表、月度工资核算、绩效奖金、晋档（POLICY C）。",
        settings=settings or Settings(),
        metadata=Base.metadata,
        routers=ROUTERS,
        feeds=compensation_feeds,
        extra_lifespan=payroll_reaper,
    )
