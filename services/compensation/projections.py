"""What compensation keeps of the other services' feeds: workers and post periods from the roster,
annual grades from the evaluation service. Every handler is idempotent (the feeds may repeat)."""

from __future__ import annotations

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
from shared.feed_consumer import FeedConsumer
from shared.regions import normalise


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def apply_worker(session: AsyncSession, event: dict[str, Any]) -> None:
    d = event["data"]
    values = {
        "worker_id": d["worker_id"],
        "name": d["name"],
        "community_code": d["community_code"],
        "community_path": normalise(d["community_code"]),
        "township_code": d["community_code"][:9] + "000",
        "status": d["status"],
        "hire_date": date.fromisoformat(d["hire_date"]),
        "left_date": _date(d.get("left_date")),
        "education": d.get("education"),
        "certificate_level": d.get("certificate_level"),
        "certificate_date": _date(d.get("certificate_date")),
        "source_version": int(d["version"]),
        "recorded_at": datetime.now(UTC),
    }
    statement = insert(WorkerProjection).values(**values)
    applied = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[WorkerProjection.worker_id],
            set_={k: statement.excluded[k] for k in values if k != "worker_id"},
            where=WorkerProjection.source_version <= statement.excluded.source_version,
        ).returning(WorkerProjection.worker_id)
    )
    if applied is not None:  # an older copy of the event changes nothing
        await _apply_employments(session, d)
    if event["type"] == "worker.transferred" and d.get("effective_date"):
        await _close_open_periods(session, d["worker_id"], date.fromisoformat(d["effective_date"]))


async def _apply_employments(session: AsyncSession, d: dict[str, Any]) -> None:
    """The worker's employments: the event's full list when it carries one (a person hired again keeps one
    worker id and gains a second employment), else the one its hire and leaving dates describe."""
    periods = d.get("employments")
    if periods is None:
        periods = [{"hire_date": d["hire_date"], "left_date": d.get("left_date")}]
        # without the list, only this employment is known: the others stay as they were
        await session.execute(
            delete(Employment).where(
                Employment.worker_id == d["worker_id"], Employment.hire_date == date.fromisoformat(d["hire_date"])
            )
        )
    else:
        await session.execute(delete(Employment).where(Employment.worker_id == d["worker_id"]))
    for period in periods:
        await session.execute(
            insert(Employment).values(
                worker_id=d["worker_id"],
                hire_date=date.fromisoformat(period["hire_date"]),
                left_date=_date(period.get("left_date")),
            )
        )


async def _close_open_periods(session: AsyncSession, worker_id: str, on: date) -> None:
    await session.execute(
        update(PostPeriod)
        .where(PostPeriod.worker_id == worker_id, PostPeriod.start_date < on)
        .where((PostPeriod.end_date.is_(None)) | (PostPeriod.end_date > on))
        .values(end_date=on, recorded_at=datetime.now(UTC))
    )


async def apply_post(session: AsyncSession, event: dict[str, Any]) -> None:
    """post.assigned: the period before it ends the day it starts (one post at a time)."""
    d = event["data"]
    start = date.fromisoformat(d["start_date"])
    await _close_open_periods(session, d["worker_id"], start)
    # A back-dated assignment ends where the next later one begins: periods never overlap (paid once).
    following = await session.scalar(
        select(func.min(PostPeriod.start_date)).where(
            PostPeriod.worker_id == d["worker_id"], PostPeriod.start_date > start
        )
    )
    statement = insert(PostPeriod).values(
        worker_id=d["worker_id"], start_date=start, end_date=following, post=d["post"], grade=int(d["grade"])
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
    d = event["data"]
    statement = insert(AssessmentGrade).values(worker_id=d["worker_id"], year=int(d["year"]), grade=d["grade"])
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AssessmentGrade.worker_id, AssessmentGrade.year], set_={"grade": statement.excluded.grade}
        )
    )


async def apply_quota(session: AsyncSession, event: dict[str, Any]) -> None:
    d = event["data"]
    statement = insert(QuotaProjection).values(
        county_code=d["county_code"], year=int(d["year"]), headcount=int(d["headcount"])
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[QuotaProjection.county_code, QuotaProjection.year],
            set_={"headcount": statement.excluded.headcount},
        )
    )


def compensation_feeds(app: FastAPI) -> list[FeedConsumer]:
    settings = app.state.settings
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
            source="roster", base_url=settings.roster_url, handlers=roster, cursors=feed_cursors, state=app.state
        ),
        FeedConsumer(
            source="evaluation",
            base_url=settings.evaluation_url,
            handlers=evaluation,
            cursors=feed_cursors,
            state=app.state,
        ),
    ]
