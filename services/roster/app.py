"""Roster service app factory: regions, communities, quotas, workers, posts, contracts (S, P, H, K)."""

from fastapi import FastAPI

from services.roster.api import ROUTERS
from services.roster.lifecycle import lifecycle_lifespan
from services.roster.models import Base
from services.roster.projections import roster_feeds
from services.roster.settings import Settings
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        title="shegong roster 社工花名册服务",
        description="专职社区工作者花名册：区划、社区、员额、招聘、人员、岗位、合同与配备合规（POLICY S, P, H, K）。",
        settings=settings or Settings(),
        metadata=Base.metadata,
        routers=ROUTERS,
        feeds=roster_feeds,
        extra_lifespan=lifecycle_lifespan,  # the scheduled status transitions
    )
