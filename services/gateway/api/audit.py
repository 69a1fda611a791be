"""``GET /api/v1/audit/events``: the audit log, for auditors and province admins, within their region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.gateway.audit_log import READERS, AuditFilters, audit_page
from services.gateway.schemas import AuditEventOut
from shared.auth import Principal, require
from shared.list_answers import paged_route
from shared.pagination import Page, PageAt

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@paged_route(
    router,
    "/events",
    AuditEventOut,
    "audit-events",
    summary="审计日志 audit log, newest first (sign-ins, failures, role changes, unmasked reads)",
    problems=(),
)
async def list_audit_events(
    at: PageAt,
    principal: Annotated[Principal, require(*READERS)],
    action: Annotated[str | None, Query(description="动作 e.g. sign_in_failed")] = None,
    subject: Annotated[str | None, Query(description="对象 e.g. user:<id> or a user name")] = None,
    actor: Annotated[str | None, Query(description="操作人 who did it (a user name)")] = None,
    since: Annotated[datetime | None, Query(description="起始时间 ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="截止时间 ISO 8601, exclusive")] = None,
) -> Page[AuditEventOut]:
    filters = AuditFilters(action=action, subject=subject, actor=actor, since=since, until=until)
    return await audit_page(at, principal, filters)
