"""``GET /api/v1/audit/events``: the audit log, for auditors and province admins, within their region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.gateway.models import AuditEvent
from services.gateway.schemas import AuditEventOut
from shared.auth import Principal, Role, require
from shared.db import SessionDep
from shared.exports import EXPORT_RESPONSES, ExportDep, exported_pages
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.regions import RegionLevel, level, scope_prefix

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
READERS = (Role.auditor, Role.province_admin)


@router.get(
    "/events",
    summary="审计日志 audit log, newest first (sign-ins, failures, role changes, unmasked reads)",
    response_model=Page[AuditEventOut],
    responses=EXPORT_RESPONSES,
)
async def list_audit_events(
    request: Request,
    export: ExportDep,
    principal: Annotated[Principal, require(*READERS)],
    session: SessionDep,
    action: Annotated[str | None, Query(description="动作 e.g. sign_in_failed")] = None,
    subject: Annotated[str | None, Query(description="对象 e.g. user:<id> or a user name")] = None,
    since: Annotated[datetime | None, Query(description="起始时间 ISO 8601")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query()] = None,
) -> Page[AuditEventOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[AuditEventOut]:
        filters = {"action": action, "subject": subject, "since": since}
        regions = principal.regions(READERS)
        conditions = [AuditEvent.region.startswith(scope_prefix(r)) for r in regions]
        if any(level(r) == RegionLevel.province for r in regions):
            conditions.append(AuditEvent.region.is_(None))  # events of no region (e.g. failed sign-ins): province-wide
        query = select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id.desc())
        if action:
            query = query.where(AuditEvent.action == action)
        if subject:
            query = query.where(AuditEvent.subject == subject)
        if since:
            query = query.where(AuditEvent.occurred_at >= since)
        if cursor:
            (before,) = decode_cursor(cursor, filters, (int,))
            query = query.where(AuditEvent.id < int(before))
        rows, more = await fetch_page(session, query, limit)
        items = [
            AuditEventOut(
                id=r.id,
                occurred_at=r.occurred_at,
                action=r.action,
                actor=r.actor,
                subject=r.subject,
                region=r.region,
                ip=r.ip,
                request_id=r.request_id,
                details=r.details,
            )
            for r in rows
        ]
        return Page[AuditEventOut](items=items, next_cursor=encode_cursor([rows[-1].id], filters) if more else None)

    if export is not None:
        return await exported_pages(request, export, page, AuditEventOut, "audit-events")
    return await page(session, cursor, limit)
