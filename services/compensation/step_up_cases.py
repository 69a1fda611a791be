"""The C7 step-up of a region as use cases: who moves up on 1 January (previewed, or recorded as orders that
``step_ups`` sends to the roster after the commit), and where a region's orders stand."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.step_up import StepUp, decide
from services.compensation.models import AssessmentGrade, PostPeriod, StepUpOrder, WorkerProjection, events
from services.compensation.policies import policy_for
from services.compensation.schemas import StepUpOrderOut, StepUpRow
from services.compensation.state import CompensationState
from services.compensation.step_ups import dispatch, record_orders
from shared.events import record_event
from shared.projections import NOT_ON_ROLL
from shared.regions import scope_prefix


def in_grade_since(period: PostPeriod, history: list[PostPeriod]) -> date:
    """The start of the unbroken stretch in this post and grade (a re-recorded period continues it);
    ``history`` is the worker's periods, newest first."""
    since = period.start_date
    for previous in (p for p in history if p.start_date < period.start_date):
        if previous.end_date == since and previous.post == period.post and previous.grade == period.grade:
            since = previous.start_date
        else:
            break
    return since


async def decide_region(session: AsyncSession, region_code: str, year: int) -> list[StepUp]:
    """C7 for every worker of the region on the roll on 31 December: in three queries, whatever the size."""
    effective = date(year, 1, 1)
    day_before = effective - timedelta(days=1)
    policy = await policy_for(session, region_code, year)
    held = (
        await session.scalars(
            select(PostPeriod)
            .join(WorkerProjection, WorkerProjection.worker_id == PostPeriod.worker_id)
            .where(
                WorkerProjection.community_path.startswith(scope_prefix(region_code)),
                WorkerProjection.status.not_in(NOT_ON_ROLL),
                PostPeriod.start_date <= day_before,
                or_(PostPeriod.end_date.is_(None), PostPeriod.end_date > day_before),
            )
        )
    ).all()
    ids = [p.worker_id for p in held]
    grades: dict[uuid.UUID, dict[int, str]] = defaultdict(dict)
    for worker_id, assessed, grade in (
        await session.execute(
            select(AssessmentGrade.worker_id, AssessmentGrade.year, AssessmentGrade.grade).where(
                AssessmentGrade.worker_id.in_(ids)
            )
        )
    ).all():
        grades[worker_id][assessed] = grade
    history: dict[uuid.UUID, list[PostPeriod]] = defaultdict(list)
    for period in (
        await session.scalars(
            select(PostPeriod).where(PostPeriod.worker_id.in_(ids)).order_by(PostPeriod.start_date.desc())
        )
    ).all():
        history[period.worker_id].append(period)
    return [
        decide(
            str(p.worker_id),
            p.post,
            p.grade,
            in_grade_since(p, history[p.worker_id]),
            effective,
            grades[p.worker_id],
            policy.grade_step_years,
        )
        for p in sorted(held, key=lambda p: str(p.worker_id))
    ]


async def preview(session: AsyncSession, region_code: str, year: int) -> list[StepUpRow]:
    return [StepUpRow(**d.__dict__, applied=False) for d in await decide_region(session, region_code, year)]


async def apply(
    session: AsyncSession, state: CompensationState, region_code: str, year: int, by: str
) -> list[StepUpRow]:
    """Record an order per worker moving up, with ``step_up.applied``, commit, then send the orders to the
    roster (never a remote call inside the transaction); each row says whether the roster confirmed it."""
    decisions = await decide_region(session, region_code, year)
    effective = date(year, 1, 1)
    moving = [(d.worker_id, d.post, d.new_grade) for d in decisions if d.new_grade is not None]
    await record_orders(session, region_code, effective, moving, by)
    await record_event(
        session,
        events,
        "step_up.applied",
        f"step-up/{region_code}/{year}",
        {"workers": len(moving), "effective": effective.isoformat()},
        region=region_code,
    )
    await session.commit()  # the orders stand before anything is sent
    await dispatch(state.engine, state.http, state.service_credentials, state.settings.roster_url)
    orders = {
        str(o.worker_id): o.status
        for o in (
            await session.scalars(
                select(StepUpOrder).where(
                    StepUpOrder.effective == effective,
                    StepUpOrder.worker_id.in_([uuid.UUID(w) for w, _, _ in moving]),
                )
            )
        ).all()
    }
    return [
        StepUpRow(**d.__dict__, applied=orders.get(d.worker_id) == "confirmed", order_status=orders.get(d.worker_id))
        for d in decisions
    ]


async def orders_of(session: AsyncSession, region_code: str, year: int) -> list[StepUpOrderOut]:
    rows = await session.scalars(
        select(StepUpOrder)
        .join(WorkerProjection, WorkerProjection.worker_id == StepUpOrder.worker_id)
        .where(
            WorkerProjection.community_path.startswith(scope_prefix(region_code)),
            StepUpOrder.effective == date(year, 1, 1),
        )
        .order_by(StepUpOrder.worker_id)
    )
    return [StepUpOrderOut.model_validate(o, from_attributes=True) for o in rows.all()]
