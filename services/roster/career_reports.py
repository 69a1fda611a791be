"""The roster's worklists over careers: contracts due for renewal in a year and who may not be renewed (H7,
H8), and chiefs with enough consecutive years for career-staff recruitment (K1 温州 6, K2 台州 5)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.careers import consecutive_chief_years, renewal_bars
from services.roster.lifecycle import employed_on
from services.roster.models import AssessmentResult, Contract, PostAssignment, Worker
from services.roster.regions import policy_overrides, resolve_policy
from services.roster.schemas import CareerRow, FindingOut, RenewalRow
from shared.read_models import from_row
from shared.regions import scope_prefix


async def renewal_worklist(session: AsyncSession, region: str, year: int, *, english: bool) -> list[RenewalRow]:
    """Workers of ``region`` whose latest contract ends in ``year`` while they are employed, each with what
    bars its renewal (H7, H8), by end date and name."""
    latest = (
        select(Contract.worker_id, func.max(Contract.end_date).label("end_date"))
        .group_by(Contract.worker_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Worker, latest.c.end_date)
            .join(latest, latest.c.worker_id == Worker.id)
            .where(
                Worker.community_path.startswith(scope_prefix(region)),
                employed_on(latest.c.end_date),  # still employed on the renewal date
                func.extract("year", latest.c.end_date) == year,
            )
            .order_by(latest.c.end_date, Worker.name)
        )
    ).all()
    worker_ids = [w.id for w, _ in rows]
    grades: dict[object, dict[int, str]] = {}
    if worker_ids:
        for wid, y, grade in (
            await session.execute(
                select(AssessmentResult.worker_id, AssessmentResult.year, AssessmentResult.grade).where(
                    AssessmentResult.worker_id.in_(worker_ids)
                )
            )
        ).all():
            grades.setdefault(wid, {})[y] = grade
    overrides = await policy_overrides(session, year)
    out = []
    for worker, end in rows:
        bars = renewal_bars(
            hire_date=worker.hire_date,
            certificate_date=worker.certificate_date if worker.certificate_level else None,
            renewal_date=end,
            grades=grades.get(worker.id, {}),
            policy=resolve_policy(overrides, worker.community_code),
        )
        out.append(
            from_row(
                RenewalRow,
                worker,
                worker_id=worker.id,
                contract_end=end,
                renewable=not bars,
                bars=[
                    FindingOut(
                        rule=b.rule,
                        region=worker.community_code,
                        message=b.en if english else b.zh,
                        expected=None,
                        actual=None,
                    )
                    for b in bars
                ],
            )
        )
    return out


async def career_eligibility(session: AsyncSession, region: str, on: date) -> list[CareerRow]:
    """Chiefs of ``region`` with the consecutive years their county requires on ``on`` (K1, K2), longest first."""
    rows = (
        await session.execute(
            select(Worker.id, Worker.name, Worker.community_code, PostAssignment.start_date, PostAssignment.end_date)
            .join(PostAssignment, PostAssignment.worker_id == Worker.id)
            .where(Worker.community_path.startswith(scope_prefix(region)), PostAssignment.post == "chief")
        )
    ).all()
    periods: dict[uuid.UUID, list[tuple[date, date | None]]] = {}
    names: dict[uuid.UUID, tuple[str, str]] = {}
    for wid, name, community, start, end in rows:
        periods.setdefault(wid, []).append((start, end))
        names[wid] = (name, community)
    overrides = await policy_overrides(session, on.year)
    out = []
    for wid, spans in periods.items():
        name, community = names[wid]
        policy = resolve_policy(overrides, community)
        years = consecutive_chief_years(spans, on)
        if years >= policy.career_chief_years:
            rule = "K2" if policy.career_chief_years == 5 else "K1"
            out.append(
                CareerRow(
                    worker_id=wid,
                    name=name,
                    community_code=community,
                    years_as_chief=round(years, 2),
                    required_years=policy.career_chief_years,
                    rule=rule,
                )
            )
    return sorted(out, key=lambda r: -r.years_as_chief)
