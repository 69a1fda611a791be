"""审计 Audit (auditors and province admins): who did what and who read which personal data, when — the
gateway's audit log (sign-ins, role changes, unmasked reads; ``services.gateway.audit_log``, the same use
case as ``GET /api/v1/audit/events``) and the roster's record of unmasked reads
(``GET /v1/personal-data-reads``: a bulk read names every worker in ``worker_ids``). Filtered by a date
range (China time, both days included) and an actor; each list paged on its own cursor. Accounts are shown
by username and name (``services.gateway.account_names``), the ``user:<uuid>`` kept for the filter link. Both are scoped
to the reader's regions by the code that answers the API; anyone else is refused (403)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.account_names import account_names
from services.gateway.audit_log import READERS, AuditFilters, audit_page
from services.gateway.console.filters import CHINA
from services.gateway.console.i18n import language_of
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError
from services.gateway.schemas import AuditEventOut
from shared.db import SessionDep
from shared.pagination import Page, PageAt
from shared.problems import Problem

router = APIRouter()
PAGE_SIZE = 50


DAY = r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"  # a date input's value: a day, or empty (no bound)


def day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, CHINA) if day else None


def parse_day(value: str | None) -> date | None:
    """An empty date input is no bound; an impossible day (e.g. 2026-02-30) is refused by the caller."""
    return date.fromisoformat(value) if value else None


def in_china(reads: dict[str, Any]) -> dict[str, Any]:
    """The roster's UTC timestamps as China time, like the audit log's."""
    for item in reads.get("items", []):
        item["when"] = datetime.fromisoformat(item["occurred_at"]).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    return reads


@router.get("/console/audit")
async def audit(
    request: Request,
    user: User,
    api: Api,
    session: SessionDep,
    since_day: Annotated[str | None, Query(alias="since", pattern=DAY)] = None,
    until_day: Annotated[str | None, Query(alias="until", pattern=DAY)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    events_cursor: Annotated[str | None, Query(max_length=2000)] = None,
    reads_cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    language = language_of(request)
    if not user.principal.roles & set(READERS):
        detail = "Auditors and province admins only" if language == "en" else "仅审计人员和省级管理员可查看"
        return page(request, "error.html", user, status_code=403, error=ApiError(403, detail, {}))
    try:
        since, until = parse_day(since_day), parse_day(until_day)
    except ValueError:
        detail = "No such day" if language == "en" else "日期无效"
        return page(request, "error.html", user, status_code=422, error=ApiError(422, detail, {}))
    start, end = day_start(since), day_start(until + timedelta(days=1) if until else None)
    errors: dict[str, ApiError] = {}
    events: Page[AuditEventOut] | None = None
    try:
        filters = AuditFilters(actor=actor or None, since=start, until=end)
        events = await audit_page(PageAt(session, events_cursor, limit), user.principal, filters)
    except Problem as exc:
        message = exc.detail or exc.title
        errors["events"] = ApiError(exc.status, message.render("en" if language == "en" else "zh-CN", **exc.params), {})
    reads: dict[str, Any] = {"items": [], "next_cursor": None}
    try:
        reads = await api.get(
            "roster",
            "/personal-data-reads",
            actor=actor,
            since=start.isoformat() if start else None,
            until=end.isoformat() if end else None,
            cursor=reads_cursor,
            limit=limit,
        )
    except ApiError as exc:
        errors["reads"] = exc
    # The roster's records name actors by id: the gateway, which owns the accounts, names them.
    accounts = await account_names(session, [r.get("actor") for r in reads.get("items", [])])
    base = {"since": since or "", "until": until or "", "actor": actor or "", "limit": limit}
    return page(
        request,
        "audit.html",
        user,
        filters=base,
        events=events,
        reads=in_china(reads),
        errors=errors,
        events_cursor=events_cursor,
        reads_cursor=reads_cursor,
        accounts=accounts,
        china=CHINA,
    )
