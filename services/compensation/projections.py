"""What compensation keeps of the other services' feeds: workers and post periods from the roster,
annual grades from the evaluation service. Every handler is idempotent (the feeds may repeat)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import (
    AssessmentGrade,
    Employment,
    PostPeriod,
    QuotaProjection,
    WorkerProjection,
    feed_cursors,
)
from services.compensation.state import compensation_state
from shared.contracts import AssessmentGraded, PostAssigned, QuotaSet, WorkerChanged
from shared.feed_consumer import FeedConsumer
from shared.projections import upsert_newer, worker_values


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def apply_worker(session: AsyncSession, event: dict[str, Any]) -> None:
    d = WorkerChanged.from_event(event)
    values = worker_values(d) | {
        "township_code": d.community_code[:9] + "000",
        "education": d.education,
        "certificate_level": d.certificate_level,
        "certificate_date": d.certificate_date,
        "recorded_at": datetime.now(UTC),
    }
    # an older copy of the event changes nothing
    if await upsert_newer(session, WorkerProjection, "worker_id", values, "source_version"):
        await _apply_employments(session, d)
    if event["type"] == "worker.transferred" and d.effective_date:
        await _close_open_periods(session, d.worker_id, d.effective_date)


async def _apply_employments(session: AsyncSession, d: WorkerChanged) -> None:
    """The worker's employments: the event's full list when it carries one (a person hired again keeps one
    worker id and gains a second employment), else the one its hire and leaving dates describe."""
    if d.employments is None:  # only this employment is known: the others stay as they were
        await session.execute(
            delete(Employment).where(Employment.worker_id == d.worker_id, Employment.hire_date == d.hire_date)
        )
    else:
        await session.execute(delete(Employment).where(Employment.worker_id == d.worker_id))
    for period in d.periods():
        await session.execute(
            insert(Employment).values(worker_id=d.worker_id, hire_date=period.hire_date, left_date=period.left_date)
        )


async def _close_open_periods(session: AsyncSession, worker_id: uuid.UUID, on: date) -> None:
    await session.execute(
        update(PostPeriod)
        .where(PostPeriod.worker_id == worker_id, PostPeriod.start_date < on)
        .where((PostPeriod.end_date.is_(None)) | (PostPeriod.end_date > on))
        .values(end_date=on, recorded_at=datetime.now(UTC))
    )


async def apply_post(session: AsyncSession, event: dict[str, Any]) -> None:
    """post.assigned: the period before it ends the day it starts (one post at a time)."""
    d = PostAssigned.from_event(event)
    start = d.start_date
    await _close_open_periods(session, d.worker_id, start)
    # A back-dated assignment ends where the next later one begins: periods never overlap (paid once).
    following = await session.scalar(
        select(func.min(PostPeriod.start_date)).where(
            PostPeriod.worker_id == d.worker_id, PostPeriod.start_date > start
        )
    )
    statement = insert(PostPeriod).values(
        worker_id=d.worker_id, start_date=start, end_date=following, post=d.post, grade=d.grade
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PostPeriod.worker_id, PostPeriod.start_date],
            set_={
                "post": statement.excluded.post,
                "grade": statement.excluded.grade,
                "end_date": statement.excluded.end_date,
                "recorded_at": func.now(),
            },
        )
    )


async def apply_grade(session: AsyncSession, event: dict[str, Any]) -> None:
    d = AssessmentGraded.from_event(event)
    statement = insert(AssessmentGrade).values(worker_id=d.worker_id, year=d.year, grade=d.grade)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AssessmentGrade.worker_id, AssessmentGrade.year], set_={"grade": statement.excluded.grade}
        )
    )


async def apply_quota(session: AsyncSession, event: dict[str, Any]) -> None:
    d = QuotaSet.from_event(event)
    statement = insert(QuotaProjection).values(county_code=d.county_code, year=d.year, headcount=d.headcount)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[QuotaProjection.county_code, QuotaProjection.year],
            set_={"headcount": statement.excluded.headcount},
        )
    )


def compensation_feeds(app: FastAPI) -> list[FeedConsumer]:
    settings = compensation_state(app).settings
    roster = {
        "worker.hired": apply_worker,
        "worker.updated": apply_worker,
        "worker.left": apply_worker,
        "worker.transferred": apply_worker,
        "post.assigned": apply_post,
        "quota.set": apply_quota,
    }
    evaluation = {"assessment.finalized": apply_grade, "assessment.appealed": apply_grade}
    return [
        FeedConsumer(
            source="roster",
            base_url=settings.roster_url,
            handlers=roster,
            cursors=feed_cursors,
            state=compensation_state(app),
        ),
        FeedConsumer(
            source="evaluation",
            base_url=settings.evaluation_url,
            handlers=evaluation,
            cursors=feed_cursors,
            state=compensation_state(app),
        ),
    ]
