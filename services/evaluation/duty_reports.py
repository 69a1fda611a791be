"""Reports on the workers' duties: the monthly visit report (E7: visit share, must-visit households
overdue) and the compliance report (E5 training, E6 the year's case, E7 visits, rolled up by community,
township and county). Queries here; the rules are in ``domain.duties``."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.domain.duties import (
    MONTHLY_WORKING_HOURS,
    MUST_VISIT_DAYS,
    VISIT_SHARE,
    case_missing,
    must_visit_due,
    visit_share,
)
from services.evaluation.models import MustVisitHousehold, Scheme, Visit, WorkCase
from services.evaluation.roll import roll_with_totals
from services.evaluation.schemas import ComplianceReport, ComplianceRow, OpenMustVisit, VisitReport, VisitRow
from services.evaluation.training import training_rows
from shared.read_models import from_row
from shared.regions import scope_prefix


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def visit_report(session: AsyncSession, region: str, month: str) -> VisitReport:
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    prefix = scope_prefix(region)
    hours = (
        select(Visit.worker_id, func.sum(func.extract("epoch", Visit.ended_at - Visit.started_at)).label("total"))
        .where(Visit.started_at >= _instant(first), Visit.started_at < _instant(last + timedelta(days=1)))
        .group_by(Visit.worker_id)
        .subquery()
    )
    rows = await roll_with_totals(session, prefix, hours)
    schemes = {s.county_code: s for s in (await session.scalars(select(Scheme).where(Scheme.year == year))).all()}
    workers = []
    for worker, seconds in rows:
        scheme = schemes.get(worker.community_code[:6])
        working = scheme.monthly_working_hours if scheme else MONTHLY_WORKING_HOURS
        required = scheme.visit_share_required if scheme else VISIT_SHARE
        visit_hours, share, short = visit_share(Decimal(str(seconds)), working, required)
        rule = "E7" if short else None
        workers.append(
            from_row(VisitRow, worker, visit_hours=visit_hours, working_hours=working, share=share, rule=rule)
        )
    return VisitReport(
        region=region, month=month, workers=workers, open_must_visits=await _overdue(session, prefix, schemes, last)
    )


async def _overdue(session: AsyncSession, prefix: str, schemes: dict[str, Scheme], last: date) -> list[OpenMustVisit]:
    """Must-visit households whose deadline fell by ``last`` with no visit between registration and it."""

    def days(community: str) -> int:
        scheme = schemes.get(community[:6])
        return scheme.must_visit_days if scheme else MUST_VISIT_DAYS

    households = [
        (h, must_visit_due(h.since, days(h.community_code)))
        for h in (
            await session.scalars(
                select(MustVisitHousehold).where(MustVisitHousehold.community_code.startswith(prefix))
            )
        ).all()
    ]
    due = [(h, d) for h, d in households if d <= last]
    if not due:
        return []
    visits: dict[tuple[str, str, str, str], list[datetime]] = {}
    found = await session.execute(
        select(Visit.community_code, Visit.building, Visit.unit, Visit.household, Visit.started_at).where(
            Visit.community_code.startswith(prefix),
            tuple_(Visit.community_code, Visit.building, Visit.unit, Visit.household).in_(
                [(h.community_code, h.building, h.unit, h.household) for h, _ in due]
            ),
        )
    )
    for community, building, unit, household, started_at in found.all():
        visits.setdefault((community, building, unit, household), []).append(started_at)
    open_visits = []
    for h, deadline in due:
        start, end = _instant(h.since), _instant(deadline + timedelta(days=1))
        times = visits.get((h.community_code, h.building, h.unit, h.household), [])
        seen = any(start <= at < end for at in times)
        if not seen:
            open_visits.append(from_row(OpenMustVisit, h, due=deadline))
    return open_visits


async def compliance_report(session: AsyncSession, region: str, month: str) -> ComplianceReport:
    """Each worker's findings (E5, E6 for the month's year; E7 for the month) and their counts per community,
    township and county."""
    year = int(month[:4])
    training = {r.worker_id: r for r in await training_rows(session, region, year)}
    visits = await visit_report(session, region, month)
    cases = {
        c.worker_id: c.status
        for c in (
            await session.scalars(select(WorkCase).where(WorkCase.year == year, WorkCase.worker_id.in_(list(training))))
        ).all()
    }
    workers = []
    rollup: dict[str, dict[str, int]] = {}
    for row in visits.workers:
        findings = []
        if training.get(row.worker_id) is not None and training[row.worker_id].rule:
            findings.append("E5")
        if case_missing(cases.get(row.worker_id)):
            findings.append("E6")
        if row.rule:
            findings.append("E7")
        workers.append(
            ComplianceRow(
                worker_id=row.worker_id,
                name=row.name,
                community_code=row.community_code,
                training_hours=training[row.worker_id].hours if row.worker_id in training else Decimal(0),
                case=cases.get(row.worker_id, "missing"),
                visit_share=row.share,
                findings=findings,
            )
        )
        for level, code in (
            ("community", row.community_code),
            ("township", row.community_code[:9] + "000"),
            ("county", row.community_code[:6]),
        ):
            counts = rollup.setdefault(f"{level}:{code}", dict.fromkeys(("E5", "E6", "E7"), 0) | {"workers": 0})
            counts["workers"] += 1
            for rule in findings:
                counts[rule] += 1
    open_by_community: dict[str, int] = {}
    for household in visits.open_must_visits:
        open_by_community[household.community_code] = open_by_community.get(household.community_code, 0) + 1
    return ComplianceReport(
        region=region, month=month, workers=workers, rollup=rollup, open_must_visits=open_by_community
    )
