"""``POST /v1/step-ups``: the C7 grade step-up of a region from 1 January — who moves up, with the
assessment years that allowed it; with ``apply`` the new grades are recorded as orders and sent to the
roster after the commit, retried until it confirms them (``services.compensation.step_ups``; the roster
publishes them back through its feed). ``GET /v1/step-up-orders`` shows where each order is."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from starlette.responses import StreamingResponse

from services.compensation.domain.step_up import decide
from services.compensation.models import (
    AssessmentGrade,
    PostPeriod,
    StepUpOrder,
    WorkerProjection,
    events,
)
from services.compensation.policies import policy_for
from services.compensation.state import compensation_state
from services.compensation.step_ups import dispatch, record_orders
from shared.auth import Principal, require, require_for_record
from shared.db import SessionDep
from shared.events import record_event
from shared.exports import EXPORT_RESPONSES, ExportDep, exported
from shared.problems import problem_responses
from shared.projections import NOT_ON_ROLL
from shared.regions import RegionCode, scope_prefix
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, READ_ROLES, require_write, sees_region

router = APIRouter(prefix="/v1", tags=["step-up"], responses=problem_responses(401, 403, 404))


class StepUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_code: RegionCode = Field(description="区划 region (a county, usually)")
    year: int = Field(ge=2000, le=2100, description="晋档年度 step-ups take effect on 1 January of this year (C7)")
    apply: bool = Field(False, description="执行 send the new grades to the roster; false: preview only")


class StepUpRow(BaseModel):
    worker_id: str = Field(description="社工编号 worker id")
    post: str = Field(description="岗位 post")
    grade: int = Field(description="现等级 current grade")
    new_grade: int | None = Field(description="新等级 the grade from 1 January, or null")
    years: list[int] = Field(description="考核年度 the assessment years examined (C7)")
    reason: str = Field(description="说明 C7, or why not")
    applied: bool = Field(description="已提交花名册 the roster confirmed the new grade")
    order_status: str | None = Field(
        None, description="指令状态 pending (to be sent again) | confirmed | rejected; null when not applied"
    )


class StepUpOrderOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID = Field(description="社工编号 worker id")
    post: str = Field(description="岗位 post")
    grade: int = Field(description="新等级 the new grade (C7)")
    effective: date = Field(description="生效日期 1 January of the step-up year")
    status: str = Field(description="指令状态 pending | sending | confirmed | rejected")
    attempts: int = Field(description="发送次数 times sent")
    last_error: str | None = Field(description="最近错误 why the last attempt did not confirm")


@router.post(
    "/step-ups",
    summary="晋档 grade step-up of a region (C7): preview, or apply through the roster",
    responses=problem_responses(503),
)
async def step_up(
    body: StepUpIn,
    principal: Annotated[Principal, require_for_record(*ADMIN_WRITE_ROLES, readers=READ_ROLES)],
    session: SessionDep,
    request: Request,
) -> list[StepUpRow]:
    require_write(principal, body.region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    effective = date(body.year, 1, 1)
    day_before = effective - timedelta(days=1)
    policy = await policy_for(session, body.region_code, body.year)
    held = (
        (
            await session.execute(
                select(PostPeriod)
                .join(WorkerProjection, WorkerProjection.worker_id == PostPeriod.worker_id)
                .where(
                    WorkerProjection.community_path.startswith(scope_prefix(body.region_code)),
                    WorkerProjection.status.not_in(NOT_ON_ROLL),
                    PostPeriod.start_date <= day_before,
                    or_(PostPeriod.end_date.is_(None), PostPeriod.end_date > day_before),
                )
            )
        )
        .scalars()
        .all()
    )
    grades: dict[Any, dict[int, str]] = {}
    for worker_id, year, grade in (
        await session.execute(
            select(AssessmentGrade.worker_id, AssessmentGrade.year, AssessmentGrade.grade).where(
                AssessmentGrade.worker_id.in_([p.worker_id for p in held])
            )
        )
    ).all():
        grades.setdefault(worker_id, {})[year] = grade
    decisions = []
    for period in sorted(held, key=lambda p: str(p.worker_id)):
        since = await _in_grade_since(session, period)
        decision = decide(
            str(period.worker_id),
            period.post,
            period.grade,
            since,
            effective,
            grades.get(period.worker_id, {}),
            policy.grade_step_years,
        )
        decisions.append(decision)
    if not body.apply:
        return [StepUpRow(**d.__dict__, applied=False) for d in decisions]
    moving = [(d.worker_id, d.post, d.new_grade) for d in decisions if d.new_grade is not None]
    await record_orders(session, body.region_code, effective, moving, principal.subject)
    await record_event(
        session,
        events,
        "step_up.applied",
        f"step-up/{body.region_code}/{body.year}",
        {"workers": len(moving), "effective": effective.isoformat()},
        region=body.region_code,
    )
    await session.commit()  # the orders stand before anything is sent: never a remote call in a transaction
    state = compensation_state(request)
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


@router.get(
    "/step-up-orders",
    summary="晋档指令 step-up orders of a region and year (C7) and whether the roster confirmed them",
    response_model=list[StepUpOrderOut],
    responses=problem_responses(401, 403) | EXPORT_RESPONSES,
)
async def list_orders(
    request: Request,
    export: ExportDep,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region_code: Annotated[RegionCode, Query(description="区划 orders of workers in this region")],
    year: Annotated[int, Query(ge=2000, le=2100, description="晋档年度 step-up year")],
) -> list[StepUpOrderOut] | StreamingResponse:
    if not sees_region(principal, region_code):
        return await exported(request, export, [], StepUpOrderOut, "step-up-orders")
    rows = await session.scalars(
        select(StepUpOrder)
        .join(WorkerProjection, WorkerProjection.worker_id == StepUpOrder.worker_id)
        .where(
            WorkerProjection.community_path.startswith(scope_prefix(region_code)),
            StepUpOrder.effective == date(year, 1, 1),
        )
        .order_by(StepUpOrder.worker_id)
    )
    return await exported(
        request,
        export,
        [
            StepUpOrderOut(
                id=o.id,
                worker_id=o.worker_id,
                post=o.post,
                grade=o.grade,
                effective=o.effective,
                status=o.status,
                attempts=o.attempts,
                last_error=o.last_error,
            )
            for o in rows.all()
        ],
        StepUpOrderOut,
        "step-up-orders",
    )


async def _in_grade_since(session: SessionDep, period: PostPeriod) -> date:
    """The start of the unbroken stretch in this post and grade (a re-recorded period continues it)."""
    since = period.start_date
    earlier = (
        await session.scalars(
            select(PostPeriod)
            .where(PostPeriod.worker_id == period.worker_id, PostPeriod.start_date < period.start_date)
            .order_by(PostPeriod.start_date.desc())
        )
    ).all()
    for previous in earlier:
        if previous.end_date == since and previous.post == period.post and previous.grade == period.grade:
            since = previous.start_date
        else:
            break
    return since
