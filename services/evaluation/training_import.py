"""Training attendance import (issue #13, E5): one row per worker and course. Each row is checked by the
API's own request model (``TrainingIn``: hours over 0 and at most 200 with one decimal, E5; course and
organiser; dates) and its date order, then here against the database as ``POST /v1/training-records``
checks its list: the worker is on the evaluation service's roll, in the job's region and one the
caller may write for (and, when given, the name matches). Loaded with the API's rows and its
``training.recorded`` event per course (``training.record_attendance``); an attendance already recorded
is not recorded twice."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkerProjection
from services.evaluation.schemas import TrainingIn
from services.evaluation.training import Course, courses_of, end_before_start, record_attendance
from shared.auth import Principal
from shared.import_rows import LAYOUT_NOTE, cell_text, cell_value, repeated, validated
from shared.regions import contains
from shared.scoping import WRITE_ROLES, sees_region
from shared.spreadsheets import Cell, CellProblem, Checked, SheetColumn

COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("worker_id", "社工编号", "text", required=True, width=38),
    SheetColumn("name", "姓名", "text", width=10),
    SheetColumn("course", "课程", "text", required=True, width=26),
    SheetColumn("organiser", "主办单位", "text", required=True, width=18),
    SheetColumn("hours", "学时", "number", required=True, width=8),
    SheetColumn("start_date", "开始日期", "date", required=True, width=12),
    SheetColumn("end_date", "结束日期", "date", required=True, width=12),
)
NOTES = (
    "培训学时导入模板 training attendance import template (issue #13, E5): one row per worker and course.",
    LAYOUT_NOTE,
    "社工编号: the worker's id (as in the roster and the worker lists); 姓名, when given, must match it.",
    "学时: class hours of the course, over 0 and at most 200, one decimal (E5: 40 a year by default).",
    "日期 YYYY-MM-DD; the end on or after the start. A course attended twice (same start) is recorded once.",
)
RULES = {"hours": "E5"}
SAME_ROW = ("社工、课程与开始日期", "attendance")  # what makes two rows of a file one


@dataclass(frozen=True)
class Attendance:
    line: int
    course: Course
    worker_id: uuid.UUID
    name: str | None


@dataclass(frozen=True)
class GoodAttendance:
    """A good attendance with the worker's community (the event's region) and who uploaded it."""

    attendance: Attendance
    community_code: str
    by: str


def _column(loc: tuple[int | str, ...]) -> str:
    return "worker_id" if loc and loc[0] == "worker_ids" else str(loc[0]) if loc else "worker_id"


def read_row(line: int, cells: Mapping[str, Cell], today: date) -> tuple[Attendance | None, list[CellProblem]]:
    """A sheet row as an attendance, or every bad cell in it (the API's checks)."""
    del today
    body: dict[str, Any] = {key: cell_value(cells.get(key)) for key in ("course", "organiser", "hours")}
    body |= {key: cell_value(cells.get(key)) for key in ("start_date", "end_date")}
    body["worker_ids"] = [cell_value(cells.get("worker_id"))]
    body = {k: v for k, v in body.items() if v is not None}
    if body["worker_ids"] == [None]:
        body.pop("worker_ids")
    model, problems = validated(TrainingIn, body, cells, column_of=_column, rules=RULES)
    if model is None:
        return None, problems
    if end_before_start(model.start_date, model.end_date):
        return None, [
            CellProblem(
                "end_date", cell_text(cells.get("end_date")), "结束日期早于开始日期", "the end date is before the start"
            )
        ]
    course = Course(model.course, model.organiser, model.hours, model.start_date, model.end_date)
    name = cell_text(cells.get("name")) or None
    return Attendance(line, course, model.worker_ids[0], name), []


async def check_rows(
    session: AsyncSession, principal: Principal, region: str, rows: Sequence[Attendance], secret: bytes, today: date
) -> Checked:
    """Each attendance's worker: on the roll of the job's region, one the caller may write for, named as
    written; an attendance twice in the file is refused the second time."""
    del secret, today
    checked = Checked()
    ids = list({r.worker_id for r in rows})
    workers: dict[uuid.UUID, tuple[str, str]] = {}
    for start in range(0, len(ids), 5000):
        found = await session.execute(
            select(WorkerProjection.worker_id, WorkerProjection.name, WorkerProjection.community_code).where(
                WorkerProjection.worker_id.in_(ids[start : start + 5000])
            )
        )
        workers |= {w: (name, community) for w, name, community in found}
    first: dict[tuple[uuid.UUID, str, date], int] = {}
    for row in rows:
        known = workers.get(row.worker_id)
        key = (row.worker_id, row.course.course, row.course.start_date)
        if known is None or not contains(region, known[1]) or not sees_region(principal, known[1], WRITE_ROLES):
            problem = CellProblem(
                "worker_id", str(row.worker_id), "本辖区内没有这名社工", "no such worker in the caller's region"
            )
        elif row.name is not None and row.name != known[0]:
            problem = CellProblem("name", row.name, "姓名与社工编号不符", "the name is not that worker's")
        elif key in first:
            problem = repeated("worker_id", str(row.worker_id), first[key], SAME_ROW)
        else:
            first[key] = row.line
            checked.good.append(GoodAttendance(row, known[1], principal.subject))
            continue
        checked.refuse(row.line, problem)
    return checked


async def load(session: AsyncSession, good: Sequence[GoodAttendance], today: date) -> int:
    """The attendances, set-based, with one ``training.recorded`` event per course (as the API writes);
    how many rows the file brought (an attendance already recorded counts, unchanged)."""
    del today
    if not good:
        return 0
    by = good[0].by
    await record_attendance(
        session, courses_of([(g.attendance.course, g.attendance.worker_id, g.community_code) for g in good]), by
    )
    return len(good)
