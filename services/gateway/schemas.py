"""Gateway API schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ServiceHealth(BaseModel):
    status: Literal["ready", "unavailable"] = Field(description="就绪状态 readiness of the service")
    migration: str | None = Field(None, description="数据库迁移版本 Alembic revision, when ready")
    detail: str | None = Field(None, description="why not ready")
    latency_ms: float = Field(description="检查耗时 time the check took")


class SuiteHealth(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when every service is ready")
    services: dict[str, ServiceHealth] = Field(description="各服务状态 gateway, roster, compensation, evaluation")
