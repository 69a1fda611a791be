"""Work cases (E6): a worker's case or experience summary for the year, submitted (again after being returned)
and reviewed by the township."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkCase, WorkerProjection, events
from services.evaluation.schemas import CaseIn, CaseOut, CaseReviewIn
from services.evaluation.visits import acting_worker
from shared.auth import Principal
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, NotFound
from shared.scoping import NO_SUCH_WORKER, require_write, sees_region

NO_SUCH_CASE = Message("案例不存在", "No such case")


def case_out(c: WorkCase) -> CaseOut:
    return CaseOut.model_validate(c, from_attributes=True)


async def submit(session: AsyncSession, principal: Principal, body: CaseIn) -> CaseOut:
    """The year's case of the acting worker; 409 unless there is none yet or the township returned it."""
    worker = await acting_worker(session, principal, body.worker_id)
    case = await session.scalar(
        select(WorkCase).where(WorkCase.worker_id == worker.worker_id, WorkCase.year == body.year).with_for_update()
    )
    if case is not None and case.status != "returned":
        raise Conflict(Message("{year} 年案例已提交", "The {year} case is already submitted"), year=body.year)
    if case is None:
        case = WorkCase(
            worker_id=worker.worker_id,
            year=body.year,
            title=body.title,
            content=body.content,
            status="submitted",
            submitted_by=principal.subject,
        )
        session.add(case)
    else:
        case.title, case.content, case.status, case.submitted_at = (
            body.title,
            body.content,
            "submitted",
            datetime.now(UTC),
        )
    await session.flush()
    await session.refresh(case)
    await record_event(
        session,
        events,
        "work_case.submitted",
        f"worker/{worker.worker_id}",
        {"worker_id": str(worker.worker_id), "year": body.year},
        region=worker.community_code,
    )
    return case_out(case)


async def review(session: AsyncSession, principal: Principal, case_id: uuid.UUID, body: CaseReviewIn) -> CaseOut:
    """Approve a submitted case, or return it with comments (E6), for a township that may write there."""
    case = await session.get(WorkCase, case_id, with_for_update=True)
    worker = await session.get(WorkerProjection, case.worker_id) if case else None
    if case is None or worker is None or not sees_region(principal, worker.community_code):
        raise NotFound(NO_SUCH_CASE)
    require_write(principal, worker.community_code, NO_SUCH_WORKER)
    if case.status != "submitted":
        raise Conflict(Message("案例状态为 {status}", "The case is {status}"), status=case.status)
    case.status, case.comment, case.reviewed_by, case.reviewed_at = (
        body.decision,
        body.comment,
        principal.subject,
        datetime.now(UTC),
    )
    await session.flush()
    return case_out(case)
