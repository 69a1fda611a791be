"""Training (E5): recording a course's attendance list (the API, and the attendance import, write the same
rows and the same ``training.recorded`` event, one per course, carrying the region its attendees share),
and the hours of a region's workers for a year against the county's requirement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.domain.duties import TRAINING_HOURS, training_short
from services.evaluation.models import Scheme, TrainingRecord, WorkerProjection, events
from services.evaluation.roll import roll_with_totals
from services.evaluation.schemas import TrainingIn, TrainingRow
from shared.auth import Principal
from shared.contracts import check_contract
from shared.i18n import Message
from shared.problems import NotFound, UnprocessableContent
from shared.regions import common_region, scope_prefix
from shared.request_context import current_request_id
from shared.scoping import WRITE_ROLES, path_filter

INSERT_CHUNK = 3000  # rows per multi-row INSERT (7 parameters each, under PostgreSQL's 32,767)


@dataclass(frozen=True)
class Course:
    """A course as recorded: what the attendance rows share."""

    course: str
    organiser: str
    hours: Decimal
    start_date: date
    end_date: date


def end_before_start(start: date, end: date) -> bool:
    return end < start


UNKNOWN_ATTENDEES = Message(
    "{n} 名参训人员不存在或不在本辖区", "{n} attendees are unknown or outside the caller's region"
)
NO_SUCH_ATTENDEE = Message("本辖区内没有这名社工", "no such worker in the caller's region")


async def record_training(session: AsyncSession, principal: Principal, body: TrainingIn) -> int:
    """A course and its attendance list (E5): attendees must be workers the caller may write for;
    repeating the same list changes nothing. How many attendances were new."""
    if end_before_start(body.start_date, body.end_date):
        raise UnprocessableContent(Message("结束日期早于开始日期", "The end date is before the start date"))
    writable = path_filter(principal, WorkerProjection.community_path, WRITE_ROLES)
    found = dict(
        (
            await session.execute(
                select(WorkerProjection.worker_id, WorkerProjection.community_code).where(
                    WorkerProjection.worker_id.in_(body.worker_ids), writable
                )
            )
        ).all()
    )
    missing = [f"/body/worker_ids/{i}" for i, w in enumerate(body.worker_ids) if w not in found]
    if missing:
        raise NotFound.out_of_scope(UNKNOWN_ATTENDEES, "worker_ids", NO_SUCH_ATTENDEE, missing)
    course = Course(body.course, body.organiser, body.hours, body.start_date, body.end_date)
    return await record_attendance(
        session, {course: {w: found[w] for w in dict.fromkeys(body.worker_ids)}}, principal.subject
    )


async def record_attendance(session: AsyncSession, courses: dict[Course, dict[uuid.UUID, str]], by: str) -> int:
    """The attendance of each course (worker → community), set-based (multi-row inserts across courses),
    a repeated attendance ignored; one ``training.recorded`` event per course with the attendees it added
    and the region they share (one multi-row insert into the outbox)."""
    rows = [
        {
            "worker_id": w,
            "course": course.course,
            "organiser": course.organiser,
            "hours": course.hours,
            "start_date": course.start_date,
            "end_date": course.end_date,
            "entered_by": by,
        }
        for course, attendees in courses.items()
        for w in attendees
    ]
    # An attendance is one worker, course and start (the table's unique key); the file checks refuse twins.
    course_of = {(w, c.course, c.start_date): c for c in courses for w in courses[c]}
    added: dict[Course, int] = dict.fromkeys(courses, 0)
    for start in range(0, len(rows), INSERT_CHUNK):
        result = await session.execute(
            insert(TrainingRecord)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing()
            .returning(TrainingRecord.worker_id, TrainingRecord.course, TrainingRecord.start_date)
        )
        for worker, name, day in result.all():
            added[course_of[(worker, name, day)]] += 1
    request_id = current_request_id()
    outbox = []
    for course, attendees in courses.items():
        data = {"course": course.course, "hours": str(course.hours), "attendees": added[course]}
        check_contract("training.recorded", data)  # as record_event checks each payload
        outbox.append(
            {
                "type": "training.recorded",
                "subject": f"course/{course.course}",
                "data": data,
                "request_id": request_id,
                "region": common_region(list(attendees.values())),
            }
        )
    await session.execute(events.insert(), outbox)
    return sum(added.values())


def courses_of(rows: Sequence[tuple[Course, uuid.UUID, str]]) -> dict[Course, dict[uuid.UUID, str]]:
    """Attendance rows (course, worker, community) grouped by course, in the order first seen."""
    grouped: dict[Course, dict[uuid.UUID, str]] = {}
    for course, worker, community in rows:
        grouped.setdefault(course, {})[worker] = community
    return grouped


async def training_rows(session: AsyncSession, region: str, year: int) -> list[TrainingRow]:
    """Each worker on the roll in ``region``: hours of centralised training in ``year`` and the E5 finding."""
    hours = (
        select(TrainingRecord.worker_id, func.sum(TrainingRecord.hours).label("total"))
        .where(func.extract("year", TrainingRecord.start_date) == year)
        .group_by(TrainingRecord.worker_id)
        .subquery()
    )
    rows = await roll_with_totals(session, scope_prefix(region), hours)
    required = {
        s.county_code: s.training_hours_required
        for s in (await session.scalars(select(Scheme).where(Scheme.year == year))).all()
    }
    out = []
    for worker, total in rows:
        need = required.get(worker.community_code[:6], TRAINING_HOURS)
        out.append(
            TrainingRow(
                worker_id=worker.worker_id,
                name=worker.name,
                community_code=worker.community_code,
                hours=Decimal(total),
                required=need,
                rule="E5" if training_short(Decimal(total), need) else None,
            )
        )
    return out
