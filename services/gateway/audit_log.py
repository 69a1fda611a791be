"""Reading the audit log (``GET /api/v1/audit/events`` and the console's 审计 page): one page, newest first,
within the reader's regions (auditors and province admins), filtered by action, subject, actor and time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import or_, select

from services.gateway.account_names import account_names
from services.gateway.models import AuditEvent
from services.gateway.schemas import AuditEventOut
from shared.auth import Principal, Role
from shared.pagination import Page, PageAt, decode_cursor, encode_cursor, fetch_page
from shared.read_models import from_row
from shared.regions import RegionLevel, level, scope_prefix

READERS = (Role.auditor, Role.province_admin)


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    subject: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def audit_page(at: PageAt, principal: Principal, filters: AuditFilters) -> Page[AuditEventOut]:
    """The events of the reader's regions (province readers also see events of no region, e.g. failed
    sign-ins), ``since`` inclusive, ``until`` exclusive; keyset-paged on the id; the accounts behind
    ``user:<uuid>`` actors and subjects named (username, name)."""
    bound = asdict(filters)  # a cursor made under other filters is refused
    regions = principal.regions(READERS)
    conditions = [AuditEvent.region.startswith(scope_prefix(r)) for r in regions]
    if any(level(r) == RegionLevel.province for r in regions):
        conditions.append(AuditEvent.region.is_(None))
    query = select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id.desc())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.subject:
        query = query.where(AuditEvent.subject == filters.subject)
    if filters.actor:
        query = query.where(AuditEvent.actor == filters.actor)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    if at.cursor:
        (before,) = decode_cursor(at.cursor, bound, (int,))
        query = query.where(AuditEvent.id < int(before))
    rows, more = await fetch_page(at.session, query, at.limit)
    accounts = await account_names(at.session, [s for r in rows for s in (r.actor, r.subject)])
    items = [
        from_row(
            AuditEventOut, r, actor_account=accounts.get(r.actor or ""), subject_account=accounts.get(r.subject or "")
        )
        for r in rows
    ]
    return Page[AuditEventOut](items=items, next_cursor=encode_cursor([rows[-1].id], bound) if more else None)
