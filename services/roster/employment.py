"""Changing a worker's record and leaving (C6: the leave date is the last day worked and paid): the use
case, one transaction; the period arithmetic is ``domain.lifecycle.cut_at_leaving``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain import lifecycle
from services.roster.errors import invalid
from services.roster.lifecycle import worker_event
from services.roster.models import Contract, Employment, PostAssignment, Worker, events
from services.roster.schemas import WorkerPatch, WorkerStatus
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict


async def change_worker(session: AsyncSession, worker: Worker, body: WorkerPatch) -> Worker:
    """Apply the fields of ``body`` that were sent; ``left_date`` (or ``status: left``) ends the employment."""
    changed = sorted(body.model_dump(exclude_unset=True))
    changes = body.model_dump(exclude_unset=True, exclude={"status", "left_date"})
    if "status" in changed and body.status != WorkerStatus.left:
        raise invalid(
            "status",
            "人员状态由日期决定（试用期 H4、借用 H6），只可登记离职",
            "the status follows from the dates (H4 probation, H6 loans); only leaving can be recorded",
            "H4",
        )
    leaving = body.status == WorkerStatus.left or body.left_date is not None
    if "left_date" in changed and body.left_date is None:
        raise invalid(
            "left_date", "离职日期不能清除；再次录用请重新录用", "a leave is not undone; hire the person again"
        )
    if leaving:
        if body.left_date is None:
            raise invalid("left_date", "离职须填离职日期", "leaving needs the leaving date (C6 prorates to it)")
        await end_employment(session, worker, body.left_date)
    for field, value in changes.items():
        setattr(worker, field, value)
    worker.version += 1
    worker.updated_at = datetime.now(UTC)
    await session.flush()
    data = await worker_event(session, worker)
    await session.flush()
    kind = "worker.left" if leaving else "worker.updated"
    await record_event(session, events, kind, f"worker/{worker.id}", data | {"changed": changed})
    return worker


async def end_employment(session: AsyncSession, worker: Worker, left_date: date) -> None:
    """Leaving on ``left_date`` (inclusive): the open employment ends then; posts and contracts running
    after it end from the next day."""
    current = await session.scalar(
        select(Employment).where(Employment.worker_id == worker.id, Employment.left_date.is_(None))
    )
    if current is None:
        raise Conflict(
            Message("已于 {left_date} 离职", "The worker already left on {left_date}"), left_date=worker.left_date
        )
    if left_date < current.hire_date:
        raise invalid("left_date", f"早于入职日期 {current.hire_date}", f"before the hire date {current.hire_date}")
    periods: list[PostAssignment | Contract] = [
        *(await session.scalars(select(PostAssignment).where(PostAssignment.worker_id == worker.id))),
        *(await session.scalars(select(Contract).where(Contract.worker_id == worker.id))),
    ]
    for period in periods:
        try:
            end = lifecycle.cut_at_leaving(period.start_date, period.end_date, left_date)
        except ValueError:
            raise invalid(
                "left_date",
                f"有自 {period.start_date} 起的任职或合同，晚于离职日期",
                f"a post or contract starts on {period.start_date}, after the leave date",
            ) from None
        if end is not None:
            period.end_date = end
    current.left_date = left_date
    worker.left_date = left_date
