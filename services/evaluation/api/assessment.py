"""Assessment: schemes (E1–E3), cycles, scores, closing with the 优秀 cap, appeals, and each worker's
history. Closing publishes ``assessment.finalized`` for every worker and ``assessment.second_incompetent``
where a second consecutive 不合格 ends the contract (H8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.evaluation import cycles
from services.evaluation.domain.assessment import (
    scheme_problems,
)
from services.evaluation.models import Cycle, DailyScore, Result, Score, WorkerProjection, events
from services.evaluation.models import Scheme as SchemeRow
from services.evaluation.schemas import (
    AppealIn,
    AssessmentGrade,
    CycleIn,
    CycleOut,
    DailyScoresIn,
    ResultOut,
    SchemeIn,
    SchemeOut,
    ScoresIn,
)
from shared.auth import Principal
from shared.db import SessionDep
from shared.dependencies import Admin as CountyAdmin
from shared.dependencies import ReaderOrWorker as Reader
from shared.dependencies import Writer
from shared.events import record_event
from shared.exports import EXPORT_RESPONSES, ExportDep, exported
from shared.i18n import Message
from shared.inputs import YearPath
from shared.policy_rules import consecutive_incompetent
from shared.problems import Conflict, FieldError, NotFound, UnprocessableContent, problem_responses
from shared.regions import CountyCode
from shared.scoping import ADMIN_WRITE_ROLES, require_write, sees_region, sees_worker

router = APIRouter(prefix="/v1", tags=["assessment"])
NO_SUCH_CYCLE = Message("考核周期不存在", "No such assessment cycle")
NO_SUCH_REGION = Message("区划不存在：{code}", "No such region: {code}")


def scheme_out(row: SchemeRow) -> SchemeOut:
    return SchemeOut(
        county_code=row.county_code,
        year=row.year,
        groups=row.groups,
        thresholds=row.thresholds,
        excellent_cap_share=row.excellent_cap_share,
        daily_weight=row.daily_weight,
        training_hours_required=row.training_hours_required,
        visit_share_required=row.visit_share_required,
        monthly_working_hours=row.monthly_working_hours,
        must_visit_days=row.must_visit_days,
        source=row.source,
        problems=scheme_problems(cycles.to_scheme(row)),
    )


@router.put(
    "/schemes/{county_code}/{year}",
    summary="考核方案 a county's assessment scheme: rater weights (E2), thresholds (E3), cap, daily weight (E1)",
    response_model=SchemeOut,
    responses=problem_responses(401, 403, 404),
)
async def set_scheme(
    county_code: Annotated[CountyCode, Path()],
    year: YearPath,
    body: SchemeIn,
    principal: CountyAdmin,
    session: SessionDep,
) -> SchemeOut:
    require_write(principal, county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
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
    return scheme_out(row)


@router.get(
    "/schemes/{county_code}/{year}",
    summary="查看考核方案 a county's scheme",
    response_model=SchemeOut,
    responses=problem_responses(401, 403, 404),
)
async def get_scheme(
    county_code: Annotated[CountyCode, Path()], year: YearPath, principal: Reader, session: SessionDep
) -> SchemeOut:
    row = await session.get(SchemeRow, (county_code, year))
    if row is None or not (
        sees_region(principal, county_code) or any(r.startswith(county_code) for r in principal.regions())
    ):
        raise NotFound(
            Message("{code} 无 {year} 年考核方案", "No {year} scheme for {code}"), code=county_code, year=year
        )
    return scheme_out(row)


def cycle_out(c: Cycle) -> CycleOut:
    return CycleOut(id=c.id, township_code=c.township_code, year=c.year, status=c.status, closed_at=c.closed_at)


@router.post(
    "/cycles",
    summary="开启考核 open a township's annual assessment under the county's scheme (E1)",
    status_code=201,
    response_model=CycleOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def open_cycle(body: CycleIn, principal: Writer, session: SessionDep) -> CycleOut:
    require_write(principal, body.township_code, NO_SUCH_REGION)
    if await session.get(SchemeRow, (body.township_code[:6], body.year)) is None:
        raise UnprocessableContent(
            Message("县级尚未制定 {year} 年考核方案", "The county has set no {year} scheme"), rule="E1", year=body.year
        )
    existing = await session.scalar(
        select(Cycle).where(Cycle.township_code == body.township_code, Cycle.year == body.year)
    )
    if existing is not None:
        raise Conflict(
            Message("该乡镇 {year} 年考核已开启", "The township's {year} assessment is already open"), year=body.year
        )
    cycle = Cycle(township_code=body.township_code, year=body.year, status="open", opened_by=principal.subject)
    session.add(cycle)
    await session.flush()
    await session.refresh(cycle)
    await record_event(
        session, events, "cycle.opened", f"cycle/{cycle.id}", {"township_code": cycle.township_code, "year": cycle.year}
    )
    return cycle_out(cycle)


async def visible_cycle(
    session: AsyncSession, principal: Principal, cycle_id: uuid.UUID, *, lock: bool = False
) -> Cycle:
    query = select(Cycle).where(Cycle.id == cycle_id)
    if lock:
        query = query.with_for_update()
    cycle = await session.scalar(query)
    if cycle is None or not sees_region(principal, cycle.township_code):
        raise NotFound(NO_SUCH_CYCLE)
    return cycle


@router.get(
    "/cycles/{cycle_id}",
    summary="查看考核周期 a cycle",
    response_model=CycleOut,
    responses=problem_responses(401, 403, 404),
)
async def get_cycle(cycle_id: uuid.UUID, principal: Reader, session: SessionDep) -> CycleOut:
    return cycle_out(await visible_cycle(session, principal, cycle_id))


@router.post(
    "/cycles/{cycle_id}/scores",
    summary="录入评分 enter scores by rater group: one from a mobile app or a whole township at once (E2)",
    response_model=dict[str, int],
    responses=problem_responses(401, 403, 404, 409),
)
async def enter_scores(cycle_id: uuid.UUID, body: ScoresIn, principal: Writer, session: SessionDep) -> dict[str, int]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    if cycle.status != "open":
        raise cycles.closed()
    members = {w.worker_id for w in await cycles.township_workers(session, cycle.township_code)}
    strangers = [
        FieldError.of(
            "worker_id",
            Message("不是本乡镇的社工", "not a worker of this township"),
            pointer=f"/body/entries/{i}/worker_id",
            type="scope",
        )
        for i, e in enumerate(body.entries)
        if e.worker_id not in members
    ]
    if strangers:
        raise UnprocessableContent(
            Message("有 {n} 条评分不属于本乡镇社工", "{n} entries are not for workers of this township"),
            errors=strangers[:50],
            n=len(strangers),
        )
    now = datetime.now(UTC)
    rows = [
        {
            "cycle_id": cycle.id,
            "worker_id": e.worker_id,
            "rater_group": e.rater_group.value,
            "score": e.score,
            "panel_size": e.panel_size,
            "ordinary_share": e.ordinary_share,
            "entered_by": principal.subject,
            "entered_at": now,
        }
        for e in body.entries
    ]
    statement = insert(Score).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Score.cycle_id, Score.worker_id, Score.rater_group],
            set_={
                k: statement.excluded[k] for k in ("score", "panel_size", "ordinary_share", "entered_by", "entered_at")
            },
        )
    )
    return {"entered": len(rows)}


@router.post(
    "/cycles/{cycle_id}/daily-scores",
    summary="录入平时考核 the rolled-up daily/quarterly score of each worker (E1)",
    response_model=dict[str, int],
    responses=problem_responses(401, 403, 404, 409),
)
async def enter_daily_scores(
    cycle_id: uuid.UUID, body: DailyScoresIn, principal: Writer, session: SessionDep
) -> dict[str, int]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    if cycle.status != "open":
        raise cycles.closed()
    for entry in body.entries:
        statement = insert(DailyScore).values(
            cycle_id=cycle.id, worker_id=entry.worker_id, score=entry.score, entered_by=principal.subject
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[DailyScore.cycle_id, DailyScore.worker_id], set_={"score": statement.excluded.score}
            )
        )
    return {"entered": len(body.entries)}


def result_out(r: Result) -> ResultOut:
    return ResultOut(
        worker_id=r.worker_id,
        year=r.year,
        score=r.score,
        grade=AssessmentGrade(r.grade),
        rank=r.rank,
        capped=r.capped,
        appeal_reason=r.appeal_reason,
        appeal_decided_by=r.appeal_decided_by,
    )


@router.post(
    "/cycles/{cycle_id}/close",
    summary="关闭考核 compute weighted scores and grades, apply the 优秀 cap, publish results; then immutable (E1–E4)",
    response_model=list[ResultOut],
    responses=problem_responses(401, 403, 404, 409),
)
async def close_cycle(cycle_id: uuid.UUID, principal: Writer, session: SessionDep) -> list[ResultOut]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    results = await cycles.close(session, cycle, principal.subject)
    return [result_out(r) for r in results]


@router.get(
    "/cycles/{cycle_id}/results",
    summary="考核结果 results of a closed cycle, by rank",
    response_model=list[ResultOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def list_results(
    request: Request, export: ExportDep, cycle_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[ResultOut] | StreamingResponse:
    cycle = await visible_cycle(session, principal, cycle_id)
    rows = (await session.scalars(select(Result).where(Result.cycle_id == cycle.id).order_by(Result.rank))).all()
    return await exported(request, export, [result_out(r) for r in rows], ResultOut, "results")


@router.post(
    "/cycles/{cycle_id}/results/{worker_id}/appeal",
    summary="申诉改判 a recorded appeal changes one result, with the reason and who decided (E4)",
    response_model=ResultOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def appeal(
    cycle_id: uuid.UUID, worker_id: uuid.UUID, body: AppealIn, principal: Writer, session: SessionDep
) -> ResultOut:
    cycle = await visible_cycle(session, principal, cycle_id)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    result = await session.get(Result, (cycle.id, worker_id), with_for_update=True)
    if result is None:
        raise NotFound(Message("无此考核结果", "No such result"))
    result.grade = body.grade.value
    result.appeal_reason = body.reason
    result.appeal_decided_by = principal.subject
    result.appeal_decided_at = datetime.now(UTC)
    await session.flush()
    previous = await session.scalar(
        select(Result.grade).where(Result.worker_id == worker_id, Result.year == result.year - 1)
    )
    if consecutive_incompetent({result.year: result.grade, result.year - 1: previous or ""}, result.year):
        # H8 again: an appeal that makes this the second consecutive 不合格 raises the same event as closing.
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
    return result_out(result)


@router.get(
    "/workers/{worker_id}/assessments",
    summary="个人考核历史 a worker's annual results (the worker sees their own)",
    response_model=list[ResultOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def worker_assessments(
    request: Request, export: ExportDep, worker_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[ResultOut] | StreamingResponse:
    worker = await session.get(WorkerProjection, worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(Message("社工不存在", "No such worker"))
    rows = (await session.scalars(select(Result).where(Result.worker_id == worker_id).order_by(Result.year))).all()
    return await exported(request, export, [result_out(r) for r in rows], ResultOut, "assessments")
