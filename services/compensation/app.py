"""Compensation service app factory: policy profiles, pay scales, payroll, bonus, step-ups (POLICY C)."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from services.compensation.api import ROUTERS
from services.compensation.models import Base
from services.compensation.payroll_metrics import payroll_run_metrics
from services.compensation.payroll_runs import reap_forever
from services.compensation.projections import compensation_feeds
from services.compensation.settings import Settings
from services.compensation.state import compensation_state
from services.compensation.step_ups import dispatch_forever
from shared.background import running
from shared.service_app import create_service_app


@contextlib.asynccontextmanager
async def background_jobs(app: FastAPI) -> AsyncIterator[None]:
    """On every replica: runs whose calculating process died are failed (payroll lease), and step-up
    orders the roster has not confirmed are sent again (C7 saga)."""
    state = compensation_state(app)
    settings = state.settings
    loops = [reap_forever(state.engine, settings.payroll_reaper_seconds)]
    if settings.feeds_enabled:  # in-process tests drive the dispatcher themselves, as they do the feeds
        loops.append(
            dispatch_forever(
                state.engine,
                state.http,
                state.service_credentials,
                settings.roster_url,
                settings.step_up_dispatch_seconds,
            )
        )
    async with running(*loops):
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        title="shegong compensation 社工薪酬服务",
        description="专职社区工作者薪酬：政策参数、三岗十八级薪酬表、月度工资核算、绩效奖金、晋档（POLICY C）。",
        settings=settings or Settings(),
        metadata=Base.metadata,
        routers=ROUTERS,
        feeds=compensation_feeds,
        extra_lifespan=background_jobs,
    )
    app.state.metric_readers.append(payroll_run_metrics)
    return app
