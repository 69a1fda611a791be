"""Payroll run lists: runs as the API shows them, filtered by region, month and status, newest month
first in keyset pages; or, for pull sync (``updated_since``), the runs whose last change committed since
then, in commit order (``shared.sync``): a run calculated, approved or paid moves to its new position."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select

from services.compensation.models import PayrollRun, events
from services.compensation.schemas import PayrollRunStatus, RunOut
from shared.auth import Principal
from shared.events import commits_of
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.read_models import from_row
from shared.regions import scope_prefix
from shared.scoping import path_filter

RUNS = Listing(
    PayrollRun,
    (Key(PayrollRun.month, date, descending=True), Key(PayrollRun.id, uuid.UUID, descending=True)),
    commits_of(events),
)
"""Newest month first."""


def run_out(r: PayrollRun) -> RunOut:
    return from_row(RunOut, r, month=r.month.strftime("%Y-%m"), excluded=r.excluded or [])


async def runs_page(
    at: PageAt,
    principal: Principal,
    region_code: str | None,
    month: str | None,
    status: PayrollRunStatus | None,
    updated_since: datetime | None,
) -> Page[RunOut]:
    """Runs of the caller's regions (of ``region_code`` and the regions inside it, a month, a status)."""
    filters = {"region_code": region_code, "month": month, "status": status}
    query = select(PayrollRun).where(path_filter(principal, PayrollRun.region_code))
    if region_code:
        query = query.where(PayrollRun.region_code.startswith(scope_prefix(region_code)))
    if month:
        query = query.where(PayrollRun.month == date.fromisoformat(month + "-01"))
    if status:
        query = query.where(PayrollRun.status == status.value)
    return await RUNS.page(
        at.session, query, run_out, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )
