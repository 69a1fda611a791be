"""``POST /v1/step-ups``: the C7 grade step-up of a region from 1 January — who moves up, with the
assessment years that allowed it; with ``apply`` the new grades go to the roster over HTTP (the
roster publishes them back through its feed)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from services.compensation.domain.step_up import decide
from services.compensation.models import NOT_ON_ROLL, AssessmentGrade, PostPeriod, WorkerProjection, events
from services.compensation.policies import policy_for
from shared.auth import Principal, require_for_record
from shared.db import SessionDep
from shared.events import record_event
from shared.http_client import request_with_retries
from shared.i18n import Message
from shared.problems import ServiceUnavailable, problem_responses
from shared.regions import RegionCode, scope_prefix
from shared.scoping import ADMIN_WRITE_ROLES, READ_ROLES, require_write

router = APIRouter(prefix="/v1", tags=["step-up"])


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
    applied: bool = Field(description="已提交花名册 sent to the roster")


@router.post(
    "/step-ups",
    summary="晋档 grade step-up of a region (C7): preview, or apply through the roster",
    response_model=list[StepUpRow],
    responses=problem_responses(401, 403, 404, 503),
)
async def step_up(
    body: StepUpIn,
    principal: Annotated[Principal, require_for_record(*ADMIN_WRITE_ROLES, readers=READ_ROLES)],
    session: SessionDep,
    request: Request,
) -> list[StepUpRow]:
    require_write(
        principal, body.region_code, Message("区划不存在：{code}", "No such region: {code}"), ADMIN_WRITE_ROLES
    )
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
    rows = []
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
        applied = False
        if body.apply and decision.new_grade is not None:
            await _send_to_roster(request, decision.worker_id, period.post, decision.new_grade, effective)
            applied = True
        rows.append(StepUpRow(**decision.__dict__, applied=applied))
    if body.apply:
        await record_event(
            session,
            events,
            "step_up.applied",
            f"step-up/{body.region_code}/{body.year}",
            {"workers": sum(r.applied for r in rows)},
        )
    return rows


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


async def _send_to_roster(request: Request, worker_id: str, post: str, grade: int, effective: date) -> None:
    settings = request.app.state.settings
    credentials = request.app.state.service_credentials
    headers = await credentials.headers() if credentials else {}
    response = await request_with_retries(
        request.app.state.http,
        "POST",
        f"{settings.roster_url}/v1/workers/{worker_id}/posts",
        json={"post": post, "grade": grade, "start_date": effective.isoformat()},
        headers=headers,
    )
    if response.status_code != 201:
        raise ServiceUnavailable(
            Message("花名册未接受晋档：{status}", "The roster did not accept the step-up: {status}"),
            status=response.status_code,
        )
