"""Training records (E5): a course's attendance list in one request; hours per worker and year against
the county's requirement (40 class hours by default): 39 is a finding, 40 is not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from starlette.responses import StreamingResponse

from services.evaluation.models import TrainingRecord, WorkerProjection, events
from services.evaluation.schemas import TrainingIn, TrainingRow
from services.evaluation.training import training_rows
from shared.auth import Principal, require, require_for_record
from shared.db import SessionDep
from shared.events import record_event
from shared.exports import EXPORT_RESPONSES, ExportDep, exported
from shared.i18n import Message
from shared.problems import FieldError, NotFound, UnprocessableContent, problem_responses
from shared.regions import RegionCode
from shared.scoping import READ_ROLES, WRITE_ROLES, path_filter, require_sees

router = APIRouter(prefix="/v1", tags=["training"], responses=problem_responses(401, 403, 404))


@router.post(
    "/training-records",
    summary="录入培训 record a course and its attendance list (E5); repeating the same list changes nothing",
    status_code=201,
)
async def record_training(
    body: TrainingIn,
    principal: Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)],
    session: SessionDep,
) -> dict[str, int]:
    if body.end_date < body.start_date:
        raise UnprocessableContent(Message("结束日期早于开始日期", "The end date is before the start date"))
    writable = path_filter(principal, WorkerProjection.community_path, WRITE_ROLES)
    found = set(
        (
            await session.scalars(
                select(WorkerProjection.worker_id).where(WorkerProjection.worker_id.in_(body.worker_ids), writable)
            )
        ).all()
    )
    missing = [
        FieldError.of(
            "worker_ids",
            Message("本辖区内没有这名社工", "no such worker in the caller's region"),
            pointer=f"/body/worker_ids/{i}",
            type="scope",
        )
        for i, w in enumerate(body.worker_ids)
        if w not in found
    ]
    if missing:
        raise NotFound(
            Message("{n} 名参训人员不存在或不在本辖区", "{n} attendees are unknown or outside the caller's region"),
            errors=missing[:50],
            n=len(missing),
        )
    rows = [
        {
            "worker_id": w,
            "course": body.course,
            "organiser": body.organiser,
            "hours": body.hours,
            "start_date": body.start_date,
            "end_date": body.end_date,
            "entered_by": principal.subject,
        }
        for w in dict.fromkeys(body.worker_ids)
    ]
    result = await session.execute(
        insert(TrainingRecord).values(rows).on_conflict_do_nothing().returning(TrainingRecord.id)
    )
    added = len(result.all())
    await record_event(
        session,
        events,
        "training.recorded",
        f"course/{body.course}",
        {"course": body.course, "hours": str(body.hours), "attendees": added},
    )
    return {"recorded": added}


@router.get(
    "/reports/training",
    summary="培训学时 hours per worker in a year against the requirement (E5), with the finding where short",
    response_model=list[TrainingRow],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def training_report(
    request: Request,
    export: ExportDep,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    year: Annotated[int, Query(ge=2000, le=2100, description="年度 year")],
) -> list[TrainingRow] | StreamingResponse:
    require_sees(principal, region)
    return await exported(request, export, await training_rows(session, region, year), TrainingRow, "training")
