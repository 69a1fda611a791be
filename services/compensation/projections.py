"""What compensation keeps of the other services' feeds: workers and post periods from the roster,
annual grades from the evaluation service. Every handler is idempotent (the feeds may repeat).

The ``apply_*`` handlers apply one event; the consumers apply a whole page with :func:`apply_roster_page`
and :func:`apply_evaluation_page`, set-wise (a few statements per page, ``shared/projection_pages.py``), with
exactly the effect of the handlers applied one by one in the page's order (a property test checks)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import (
    AssessmentGrade,
    ClosedCycle,
    Employment,
    PostPeriod,
    QuotaProjection,
    WorkerProjection,
    feed_cursors,
)
from services.compensation.state import compensation_state
from shared.contracts import CycleClosed, PostAssigned, QuotaSet, WorkerChanged
from shared.feed_consumer import CATCH_UP_PAGES, FeedConsumer
from shared.projection_pages import (
    GRADE_TYPES,
    WORKER_TYPES,
    WorkerFold,
    any_of,
    apply_worker_events,
    by_type,
    last_per_key,
    read_page,
    table_of,
    upsert_grades,
    upsert_records,
)
from shared.projections import upsert_grade, upsert_newer, worker_values
from shared.writes import upsert


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
    period = {"worker_id": d.worker_id, "start_date": start, "end_date": following, "post": d.post, "grade": d.grade}
    await upsert(session, PostPeriod, period, ["worker_id", "start_date"], touch={"recorded_at": func.now()})


async def apply_grade(session: AsyncSession, event: dict[str, Any]) -> None:
    await upsert_grade(session, AssessmentGrade, event)


def _closed_cycle(d: CycleClosed) -> dict[str, Any]:
    return {"township_code": d.township_code, "year": d.year, "results": d.results}


async def apply_cycle_closed(session: AsyncSession, event: dict[str, Any]) -> None:
    """The township's assessment of the year is closed: every grade of it came before (C5 shares from now)."""
    await upsert(session, ClosedCycle, _closed_cycle(CycleClosed.from_event(event)), ["township_code", "year"])


async def apply_quota(session: AsyncSession, event: dict[str, Any]) -> None:
    d = QuotaSet.from_event(event)
    quota = {"county_code": d.county_code, "year": d.year, "headcount": d.headcount}
    await upsert(session, QuotaProjection, quota, ["county_code", "year"])


def _worker_extra(d: WorkerChanged) -> dict[str, Any]:
    return {
        "township_code": d.community_code[:9] + "000",
        "education": d.education,
        "certificate_level": d.certificate_level,
        "certificate_date": d.certificate_date,
    }


async def apply_roster_page(session: AsyncSession, page: list[dict[str, Any]]) -> None:
    """A page of the roster's feed, set-wise: the same result as ``apply_worker`` / ``apply_post`` /
    ``apply_quota`` event by event in the page's order."""
    fold = await apply_worker_events(
        session, WorkerProjection, by_type(page, WORKER_TYPES), _worker_extra, touch={"recorded_at": func.now()}
    )
    await _apply_employment_fold(session, fold)
    await _apply_post_periods(session, page)
    quotas = [QuotaSet.from_event(event) for _, event in by_type(page, ["quota.set"])]
    await upsert_records(
        session,
        table_of(QuotaProjection),
        last_per_key(
            ((q.county_code, q.year), {"county_code": q.county_code, "year": q.year, "headcount": q.headcount})
            for q in quotas
        ),
        ["county_code", "year"],
    )


async def _apply_employment_fold(session: AsyncSession, fold: WorkerFold) -> None:
    """Each stored worker event replaces the worker's employments (a full list) or the one of its hire date:
    folded per worker into the rows to write, after deleting the employments of the workers a list reset."""
    reset: set[uuid.UUID] = set()
    rows: list[dict[str, Any]] = []
    for worker_id, stored in fold.stored.items():
        periods: dict[date, date | None] = {}
        for _, d in stored:
            if d.employments is not None:
                reset.add(worker_id)
                periods = {}
            for period in d.periods():
                periods[period.hire_date] = period.left_date
        rows += [{"worker_id": worker_id, "hire_date": h, "left_date": left} for h, left in periods.items()]
    if reset:
        await session.execute(
            delete(Employment).where(Employment.worker_id == any_of(table_of(Employment), "worker_id", list(reset)))
        )
    await upsert_records(session, table_of(Employment), rows, ["worker_id", "hire_date"])


@dataclass
class _Period:
    start: date
    end: date | None
    post: str
    grade: int
    changed: bool = False

    def close(self, on: date) -> None:
        if self.start < on and (self.end is None or self.end > on):
            self.end, self.changed = on, True


async def _apply_post_periods(session: AsyncSession, page: list[dict[str, Any]]) -> None:
    """``post.assigned`` and the period closing of ``worker.transferred``, replayed per worker in page order
    over the worker's stored periods (read once), then the changed periods written in one upsert."""
    steps: list[tuple[uuid.UUID, date, PostAssigned | None]] = []
    events = [event for _, event in by_type(page, ["post.assigned", "worker.transferred"])]
    posts = iter(read_page(PostAssigned, (event for event in events if event["type"] == "post.assigned")))
    for event in events:
        if event["type"] == "post.assigned":
            p = next(posts)
            steps.append((p.worker_id, p.start_date, p))
        else:
            d = WorkerChanged.from_event(event)
            if d.effective_date:
                steps.append((d.worker_id, d.effective_date, None))
    if not steps:
        return
    ids = list({worker_id for worker_id, _, _ in steps})
    periods: dict[uuid.UUID, dict[date, _Period]] = {worker_id: {} for worker_id in ids}
    stored = await session.execute(
        select(
            PostPeriod.worker_id, PostPeriod.start_date, PostPeriod.end_date, PostPeriod.post, PostPeriod.grade
        ).where(PostPeriod.worker_id == any_of(table_of(PostPeriod), "worker_id", ids))
    )
    for worker_id, start, end, post, grade in stored:
        periods[worker_id][start] = _Period(start, end, post, grade)
    for worker_id, on, assigned in steps:
        mine = periods[worker_id]
        for period in mine.values():
            period.close(on)
        if assigned is not None:
            following = min((s for s in mine if s > on), default=None)
            mine[on] = _Period(on, following, assigned.post, assigned.grade, changed=True)
    rows = [
        {"worker_id": worker_id, "start_date": p.start, "end_date": p.end, "post": p.post, "grade": p.grade}
        for worker_id, mine in periods.items()
        for p in mine.values()
        if p.changed
    ]
    await upsert_records(
        session, table_of(PostPeriod), rows, ["worker_id", "start_date"], touch={"recorded_at": func.now()}
    )


async def apply_evaluation_page(session: AsyncSession, page: list[dict[str, Any]]) -> None:
    """A page of the evaluation service's feed: each worker's grade for a year and each township's closed
    cycle of a year, the last of the page winning."""
    await upsert_grades(session, page, table_of(AssessmentGrade))
    closed = [CycleClosed.from_event(event) for _, event in by_type(page, ["cycle.closed"])]
    rows = last_per_key(((d.township_code, d.year), _closed_cycle(d)) for d in closed)
    await upsert_records(session, table_of(ClosedCycle), rows, ["township_code", "year"])


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
    evaluation = dict.fromkeys(GRADE_TYPES, apply_grade) | {"cycle.closed": apply_cycle_closed}
    consumer = functools.partial(
        FeedConsumer, cursors=feed_cursors, pages_per_poll=CATCH_UP_PAGES, state=compensation_state(app)
    )
    return [
        consumer(source="roster", base_url=settings.roster_url, handlers=roster, page_handler=apply_roster_page),
        consumer(
            source="evaluation",
            base_url=settings.evaluation_url,
            handlers=evaluation,
            page_handler=apply_evaluation_page,
        ),
    ]
