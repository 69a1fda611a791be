"""The annual bonus (C5): a township's pool shared by assessment grade coefficients × months in post."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from sqlalchemy import select

from services.compensation.domain.bonus import Claim, share_pool
from services.compensation.models import AssessmentGrade, BonusAllocation, PostPeriod, WorkerProjection, events
from services.compensation.policies import policy_for
from services.compensation.schemas import BonusIn, BonusOut, BonusShare
from shared.auth import Principal, require_for_record
from shared.db import SessionDep
from shared.events import record_event
from shared.i18n import Message
from shared.problems import UnprocessableContent, problem_responses
from shared.scoping import READ_ROLES, WRITE_ROLES, require_write

router = APIRouter(prefix="/v1", tags=["bonus"])


def months_in_post(periods: list[tuple[date, date | None]], year: int) -> Decimal:
    """Months in post in the year, by days (a whole year is 12)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    days = sum(max(0, (min(e or end, end) - max(s, start)).days) for s, e in periods)
    return (Decimal(days) * 12 / Decimal((end - start).days)).quantize(Decimal("0.01"))


@router.post(
    "/bonus-allocations",
    summary="绩效奖金分配 share a township's pool by grade coefficient × months in post, to the cent (C5)",
    status_code=201,
    response_model=BonusOut,
    responses=problem_responses(401, 403, 404),
)
async def allocate_bonus(
    body: BonusIn,
    principal: Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)],
    session: SessionDep,
) -> BonusOut:
    require_write(principal, body.township_code, Message("区划不存在：{code}", "No such region: {code}"), WRITE_ROLES)
    policy = await policy_for(session, body.township_code, body.year)
    if not policy.bonus_coefficients:
        raise UnprocessableContent(
            Message("县级尚未设定各等次奖金系数", "The county has not set the bonus coefficient of each grade"),
            rule="C5",
        )
    grades = dict(
        (
            await session.execute(
                select(AssessmentGrade.worker_id, AssessmentGrade.grade)
                .join(WorkerProjection, WorkerProjection.worker_id == AssessmentGrade.worker_id)
                .where(AssessmentGrade.year == body.year, WorkerProjection.township_code == body.township_code)
            )
        ).all()
    )
    if not grades:
        raise UnprocessableContent(
            Message("该乡镇 {year} 年无考核结果", "No {year} assessment results for the township"),
            rule="C5",
            year=body.year,
        )
    missing = sorted(set(grades.values()) - set(policy.bonus_coefficients))
    if missing:
        raise UnprocessableContent(
            Message("缺少等次系数：{g}", "No coefficient for: {g}"), rule="C5", g=", ".join(missing)
        )
    periods: dict[object, list[tuple[date, date | None]]] = {}
    for worker_id, start, end in (
        await session.execute(
            select(PostPeriod.worker_id, PostPeriod.start_date, PostPeriod.end_date).where(
                PostPeriod.worker_id.in_(list(grades))
            )
        )
    ).all():
        periods.setdefault(worker_id, []).append((start, end))
    claims = [Claim(str(w), g, months_in_post(periods.get(w, []), body.year)) for w, g in grades.items()]
    shares = share_pool(body.pool, claims, policy.bonus_coefficients)
    out = [
        BonusShare(
            worker_id=c.worker_id,
            grade=c.grade,
            months=c.months,
            coefficient=policy.bonus_coefficients[c.grade],
            share=shares[c.worker_id],
        )
        for c in sorted(claims, key=lambda c: c.worker_id)
    ]
    row = BonusAllocation(
        township_code=body.township_code,
        year=body.year,
        pool=body.pool,
        shares=[s.model_dump(mode="json") for s in out],
        created_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record_event(
        session,
        events,
        "bonus.allocated",
        f"bonus/{row.id}",
        {"township_code": body.township_code, "year": body.year, "pool": str(body.pool)},
    )
    assert sum((s.share for s in out), Decimal(0)) == body.pool  # C5: to the cent
    return BonusOut(id=row.id, township_code=row.township_code, year=row.year, pool=row.pool, shares=out)
