"""Compensation service app factory: policy profiles, pay scales, payroll, bonus, step-ups (POLICY C)."""

from fastapi import FastAPI

from services.compensation.api import ROUTERS
from services.compensation.models import Base
from services.compensation.projections import compensation_feeds
from services.compensation.settings import Settings
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        name="compensation",
        title="shegong compensation 社工薪酬服务",
        description="专职社区工作者薪酬：政策参数、三岗十八级薪酬表、月度工资核算、绩效奖金、晋档（POLICY C）。",
        settings=settings or Settings(),
        metadata=Base.metadata,
        routers=ROUTERS,
        feeds=compensation_feeds,
    )
