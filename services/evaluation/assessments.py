"""Assessment use cases other than closing (``cycles``): the county's scheme (E1–E3), opening a
township's cycle (E1), entering rater-group and daily scores (E1, E2) and appeals (E4, H8). One
transaction each; the rules are in ``domain.assessment`` and ``shared.policy_rules``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation import cycles
from services.evaluation.domain.assessment import scheme_problems
from services.evaluation.models import Cycle, DailyScore, Result, Score, events
from services.evaluation.models import Scheme as SchemeRow
from services.evaluation.schemas import AppealIn, DailyScoresIn, SchemeIn, ScoreIn, ScoresIn
from shared.events import record_event
from shared.i18n import Message
from shared.policy_rules import consecutive_incompetent, decides
from shared.problems import Conflict, NotFound, UnprocessableContent
from shared.writes import inserted, upsert

SCORE_CHUNK = 3000  # rows per multi-row upsert (8 parameters each, under PostgreSQL's 32,767)


async def set_scheme(session: AsyncSession, county_code: str, year: int, body: SchemeIn) -> SchemeRow:
    """The county's scheme for a year; refused (E2) unless it is complete."""
    values: dict[str, Any] = body.model_dump(mode="json")
    values["excellent_cap_share"] = body.excellent_cap_share
    values["daily_weight"] = body.daily_weight
    values["training_hours_required"] = body.training_hours_required
    values["visit_share_required"] = body.visit_share_required
    values["monthly_working_hours"] = body.monthly_working_hours
    row = await session.get(SchemeRow, (county_code, year), with_for_update=True)
    if row is None:
        row = SchemeRow(county_code=county_code, year=year, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.version += 1
    await session.flush()
    problems = scheme_problems(cycles.to_scheme(row))
    if problems:
        raise UnprocessableContent(
            Message("考核方案不完整：{problems}", "The scheme is incomplete: {problems}"),
            rule="E2",
            problems="; ".join(problems),
        )
    await record_event(
        session, events, "scheme.set", f"scheme/{county_code}/{year}", {"county_code": county_code, "year": year}
    )
    return row


async def open_cycle(session: AsyncSession, township_code: str, year: int, by: str) -> Cycle:
    """E1: a township's annual assessment, under the scheme its county set for the year; one per year."""
    if await session.get(SchemeRow, (township_code[:6], year)) is None:
        raise UnprocessableContent(
            Message("县级尚未制定 {year} 年考核方案", "The county has set no {year} scheme"), rule="E1", year=year
        )
    existing = await session.scalar(select(Cycle).where(Cycle.township_code == township_code, Cycle.year == year))
    if existing is not None:
        raise Conflict(
            Message("该乡镇 {year} 年考核已开启", "The township's {year} assessment is already open"), year=year
        )
    cycle = Cycle(township_code=township_code, year=year, status="open", opened_by=by)
    await inserted(session, cycle)
    await record_event(
        session, events, "cycle.opened", f"cycle/{cycle.id}", {"township_code": cycle.township_code, "year": cycle.year}
    )
    return cycle


STRANGERS = Message("有 {n} 条评分不属于本乡镇社工", "{n} entries are not for workers of this township")
NOT_OF_TOWNSHIP = Message("不是本乡镇的社工", "not a worker of this township")


async def enter_scores(session: AsyncSession, cycle: Cycle, body: ScoresIn, by: str) -> int:
    """E2: scores by rater group for workers of the cycle's township (entered again: replaced)."""
    if cycle.status != "open":
        raise cycles.closed()
    members = {w.worker_id for w in await cycles.township_workers(session, cycle.township_code)}
    strangers = [f"/body/entries/{i}/worker_id" for i, e in enumerate(body.entries) if e.worker_id not in members]
    if strangers:
        raise UnprocessableContent.out_of_scope(STRANGERS, "worker_id", NOT_OF_TOWNSHIP, strangers)
    now = datetime.now(UTC)
    rows = [score_row(cycle.id, e, by, now) for e in body.entries]
    return await store_scores(session, rows)


def score_row(cycle_id: uuid.UUID, e: ScoreIn, by: str, now: datetime) -> dict[str, Any]:
    """A rater group's score of a worker as stored (E2)."""
    return {
        "cycle_id": cycle_id,
        "worker_id": e.worker_id,
        "rater_group": e.rater_group.value,
        "score": e.score,
        "panel_size": e.panel_size,
        "ordinary_share": e.ordinary_share,
        "entered_by": by,
        "entered_at": now,
    }


async def store_scores(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Scores set-based (multi-row upserts): a score entered again for the same worker and group replaces it.
    The callers have checked that each cycle is open (E1) and each worker is of its township."""
    for start in range(0, len(rows), SCORE_CHUNK):
        await upsert(session, Score, rows[start : start + SCORE_CHUNK], ["cycle_id", "worker_id", "rater_group"])
    return len(rows)


async def enter_daily_scores(session: AsyncSession, cycle: Cycle, body: DailyScoresIn, by: str) -> int:
    """E1: the rolled-up daily/quarterly score of each worker (entered again: replaced)."""
    if cycle.status != "open":
        raise cycles.closed()
    for entry in body.entries:
        statement = insert(DailyScore).values(
            cycle_id=cycle.id, worker_id=entry.worker_id, score=entry.score, entered_by=by
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[DailyScore.cycle_id, DailyScore.worker_id], set_={"score": statement.excluded.score}
            )
        )
    return len(body.entries)


@decides("E4")
async def appeal(session: AsyncSession, cycle: Cycle, worker_id: uuid.UUID, body: AppealIn, by: str) -> Result:
    """E4: a decided appeal changes one result, with its reason and who decided; a second consecutive
    不合格 it makes raises ``assessment.second_incompetent`` as closing would (H8)."""
    result = await session.get(Result, (cycle.id, worker_id), with_for_update=True)
    if result is None:
        raise NotFound(Message("无此考核结果", "No such result"))
    result.grade = body.grade.value
    result.appeal_reason = body.reason
    result.appeal_decided_by = by
    result.appeal_decided_at = datetime.now(UTC)
    await session.flush()
    previous = await session.scalar(
        select(Result.grade).where(Result.worker_id == worker_id, Result.year == result.year - 1)
    )
    if consecutive_incompetent({result.year: result.grade, result.year - 1: previous or ""}, result.year):
        await record_event(
            session,
            events,
            "assessment.second_incompetent",
            f"worker/{worker_id}",
            cycles.assessment_data(cycle, result) | {"rule": "H8"},
        )
    await record_event(
        session,
        events,
        "assessment.appealed",
        f"worker/{worker_id}",
        cycles.assessment_data(cycle, result) | {"reason": body.reason},
    )
    return result
