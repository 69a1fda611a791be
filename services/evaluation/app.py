"""Evaluation service app factory: assessment cycles, grades, training, cases, visits (POLICY E)."""

from fastapi import FastAPI

from services.evaluation.api import ROUTERS
from services.evaluation.models import Base
from services.evaluation.projections import evaluation_feeds
from services.evaluation.settings import Settings
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        title="shegong evaluation 社工考核服务",
        description="专职社区工作者考核：考核周期、评价权重、等次与优秀比例、培训、案例、走访（POLICY E）。",
        settings=settings or Settings(),
        metadata=Base.metadata,
        routers=ROUTERS,
        feeds=evaluation_feeds,
    )
