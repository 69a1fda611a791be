"""Closing a township's assessment cycle (E1–E4, H8): the use case, one transaction; the rules are in
``domain.assessment``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.domain.assessment import (
    Entry,
    Ranked,
    RaterGroup,
    Scheme,
    apply_excellent_cap,
    grade_for,
    panel_problems,
    resident_score,
    scheme_problems,
    weighted_score,
)
from services.evaluation.models import Cycle, DailyScore, Result, Score, WorkerProjection, events
from services.evaluation.models import Scheme as SchemeRow
from services.evaluation.schemas import RaterGroupCode
from shared.auth import Principal
from shared.contracts import AssessmentGraded, CycleClosed
from shared.events import record_event
from shared.i18n import Message
from shared.labelled import labels
from shared.policy_rules import consecutive_incompetent
from shared.problems import Conflict, FieldError, UnprocessableContent
from shared.projections import NOT_ON_ROLL
from shared.read_models import from_row
from shared.scoping import RegionScoped, visible_projected_worker


def to_scheme(row: SchemeRow) -> Scheme:
    return Scheme(
        groups=tuple(
            RaterGroup(
                code=g["code"],
                weight=Decimal(str(g["weight"])),
                min_panel=g.get("min_panel"),
                min_ordinary_share=Decimal(str(g["min_ordinary_share"]))
                if g.get("min_ordinary_share") is not None
                else None,
            )
            for g in row.groups
        ),
        thresholds={k: Decimal(str(v)) for k, v in row.thresholds.items()},
        excellent_cap_share=row.excellent_cap_share,
        daily_weight=row.daily_weight,
    )


async def township_workers(session: AsyncSession, township: str) -> list[WorkerProjection]:
    rows = await session.scalars(
        select(WorkerProjection).where(
            WorkerProjection.community_path.startswith(township[:9]), WorkerProjection.status.not_in(NOT_ON_ROLL)
        )
    )
    return list(rows.all())


def closed() -> Conflict:
    return Conflict(Message("考核已关闭，只能通过申诉更改", "The cycle is closed: only an appeal changes a result"))


def assessment_data(cycle: Cycle, result: Result) -> dict[str, Any]:
    return from_row(AssessmentGraded, result, cycle_id=cycle.id, township_code=cycle.township_code).to_data()


async def close(session: AsyncSession, cycle: Cycle, by: str) -> list[Result]:
    """Weighted scores, grades under the 优秀 cap and ranks for every worker of the township; the cycle
    closes for good; each result is published, and a second consecutive 不合格 its own H8 event."""
    if cycle.status != "open":
        raise closed()
    scheme_row = await session.get(SchemeRow, (cycle.township_code[:6], cycle.year))
    if scheme_row is None:
        raise UnprocessableContent(Message("无考核方案", "No scheme"), rule="E1")
    scheme = to_scheme(scheme_row)
    problems = scheme_problems(scheme)
    if problems:
        raise UnprocessableContent(
            Message("考核方案缺少参数：{p}", "The scheme lacks: {p}"), rule="E3", p="; ".join(problems)
        )
    workers = await township_workers(session, cycle.township_code)
    scores = (await session.scalars(select(Score).where(Score.cycle_id == cycle.id))).all()
    daily = {
        d.worker_id: d.score
        for d in (await session.scalars(select(DailyScore).where(DailyScore.cycle_id == cycle.id))).all()
    }
    entries: dict[uuid.UUID, dict[str, Entry]] = {}
    for s in scores:
        entries.setdefault(s.worker_id, {})[s.rater_group] = Entry(
            s.rater_group, s.score, s.panel_size, s.ordinary_share
        )
    errors = []
    for w in workers:
        for problem in panel_problems(scheme, entries.get(w.worker_id, {}), RATER_GROUPS):
            errors.append(
                FieldError.of(
                    "scores",
                    Message(f"{w.name}：{problem.zh}", f"{w.name}: {problem.en}"),
                    pointer=f"/workers/{w.worker_id}",
                    type="panel",
                    rule="E2",
                )
            )
    if errors:
        raise UnprocessableContent(
            Message("评分不完整或评价人数不足，不能关闭：{n} 项", "Scores missing or panels too small: {n} problems"),
            rule="E2",
            errors=errors[:100],
            n=len(errors),
        )
    ranked = []
    for w in workers:
        mine = entries[w.worker_id]
        score = weighted_score(scheme, mine, daily.get(w.worker_id))
        ranked.append(
            Ranked(str(w.worker_id), score, resident_score(scheme, mine), grade_for(score, scheme.thresholds))
        )
    ranked, demoted = apply_excellent_cap(ranked, scheme.excellent_cap_share)
    ranked.sort(key=lambda r: (-r.score, -r.resident_score, r.worker_id))
    previous = {
        r.worker_id: r.grade
        for r in (
            await session.scalars(
                select(Result).where(
                    Result.year == cycle.year - 1, Result.worker_id.in_([w.worker_id for w in workers])
                )
            )
        ).all()
    }
    results = []
    for position, r in enumerate(ranked, start=1):
        result = Result(
            cycle_id=cycle.id,
            worker_id=uuid.UUID(r.worker_id),
            year=cycle.year,
            score=r.score,
            grade=r.grade,
            rank=position,
            capped=r.worker_id in demoted,
        )
        session.add(result)
        results.append(result)
    cycle.status, cycle.closed_by, cycle.closed_at = "closed", by, datetime.now(UTC)
    await session.flush()
    for result in results:
        await record_event(
            session, events, "assessment.finalized", f"worker/{result.worker_id}", assessment_data(cycle, result)
        )
        if consecutive_incompetent(
            {cycle.year: result.grade, cycle.year - 1: previous.get(result.worker_id, "")}, cycle.year
        ):
            # H8: two consecutive 不合格 end the contract — its own event, for the roster's renewal worklist.
            await record_event(
                session,
                events,
                "assessment.second_incompetent",
                f"worker/{result.worker_id}",
                assessment_data(cycle, result) | {"rule": "H8"},
            )
    # After every grade of the cycle: a feed reader that has this event has them all (the C5 bonus waits for it).
    done = CycleClosed(cycle_id=cycle.id, township_code=cycle.township_code, year=cycle.year, results=len(results))
    await record_event(session, events, "cycle.closed", f"cycle/{cycle.id}", done.to_data())
    return results


RATER_GROUPS = labels(RaterGroupCode)  # the Chinese refusals name groups by label (乡镇（街道）干部)
NO_SUCH_CYCLE = Message("考核周期不存在", "No such assessment cycle")


visible_cycle = RegionScoped(Cycle, lambda c: c.township_code, NO_SUCH_CYCLE)
"""A cycle of a township the caller sees (404 otherwise), locked with ``lock=True``."""


async def results_of(session: AsyncSession, cycle: Cycle) -> list[Result]:
    """A closed cycle's results by rank (an open cycle has none)."""
    return list((await session.scalars(select(Result).where(Result.cycle_id == cycle.id).order_by(Result.rank))).all())


async def results_of_worker(session: AsyncSession, principal: Principal, worker_id: uuid.UUID) -> list[Result]:
    """A visible worker's annual results, by year."""
    await visible_projected_worker(session, WorkerProjection, principal, worker_id)
    return list(
        (await session.scalars(select(Result).where(Result.worker_id == worker_id).order_by(Result.year))).all()
    )
