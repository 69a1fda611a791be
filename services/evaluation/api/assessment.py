"""Assessment: schemes (E1–E3), cycles, scores, closing with the 优秀 cap, appeals, and each worker's
history. Closing publishes ``assessment.finalized`` for every worker and ``assessment.second_incompetent``
where a second consecutive 不合格 ends the contract (H8)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.evaluation import assessments, cycles
from services.evaluation.cycle_lists import CycleFilters, cycle_page
from services.evaluation.cycles import NO_SUCH_CYCLE, visible_cycle
from services.evaluation.domain.assessment import scheme_problems
from services.evaluation.models import Cycle, Result
from services.evaluation.models import Scheme as SchemeRow
from services.evaluation.schemas import (
    AppealIn,
    CycleIn,
    CycleOut,
    DailyScoresIn,
    ResultOut,
    SchemeIn,
    SchemeOut,
    ScoresIn,
)
from shared.db import SessionDep
from shared.dependencies import Reader, ReaderOrWorker, Writer, region_to_change
from shared.i18n import Message
from shared.inputs import YearPath, year_query
from shared.list_answers import list_route, paged_route
from shared.pagination import Page, PageAt
from shared.problems import NotFound, problem_responses
from shared.regions import CountyCode, RegionCode
from shared.scoping import NO_SUCH_REGION, require_write, sees_region
from shared.sync import UpdatedSince

router = APIRouter(prefix="/v1", tags=["assessment"], responses=problem_responses(401, 403, 404))


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
)
async def set_scheme(
    county_code: Annotated[str, region_to_change("county_code", CountyCode)],
    year: YearPath,
    body: SchemeIn,
    session: SessionDep,
) -> SchemeOut:
    return scheme_out(await assessments.set_scheme(session, county_code, year, body))


@router.get("/schemes/{county_code}/{year}", summary="查看考核方案 a county's scheme")
async def get_scheme(
    county_code: CountyCode, year: YearPath, principal: ReaderOrWorker, session: SessionDep
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
    return CycleOut.model_validate(c, from_attributes=True)


@router.post(
    "/cycles",
    summary="开启考核 open a township's annual assessment under the county's scheme (E1)",
    status_code=201,
    responses=problem_responses(409),
)
async def open_cycle(body: CycleIn, principal: Writer, session: SessionDep) -> CycleOut:
    require_write(principal, body.township_code, NO_SUCH_REGION)
    return cycle_out(await assessments.open_cycle(session, body.township_code, body.year, principal.subject))


@paged_route(
    router,
    "/cycles",
    CycleOut,
    "cycles",
    summary="考核周期列表 the cycles of the caller's regions, newest year first, by township (E1)",
)
async def list_cycles(
    at: PageAt,
    principal: Reader,
    region: Annotated[
        RegionCode | None,
        Query(description="区划 cycles of the townships of this region (E1: one per township a year)"),
    ] = None,
    year: Annotated[int | None, year_query("考核年度 year assessed")] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$", description="状态 open | closed")] = None,
    updated_since: UpdatedSince = None,
) -> Page[CycleOut]:
    filters = CycleFilters(region=region, year=year, status=status, updated_since=updated_since)
    return await cycle_page(at, principal, filters)


@router.get("/cycles/{cycle_id}", summary="查看考核周期 a cycle")
async def get_cycle(cycle_id: uuid.UUID, principal: ReaderOrWorker, session: SessionDep) -> CycleOut:
    return cycle_out(await visible_cycle(session, principal, cycle_id))


@router.post(
    "/cycles/{cycle_id}/scores",
    summary="录入评分 enter scores by rater group: one from a mobile app or a whole township at once (E2)",
    responses=problem_responses(409),
)
async def enter_scores(cycle_id: uuid.UUID, body: ScoresIn, principal: Writer, session: SessionDep) -> dict[str, int]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    return {"entered": await assessments.enter_scores(session, cycle, body, principal.subject)}


@router.post(
    "/cycles/{cycle_id}/daily-scores",
    summary="录入平时考核 the rolled-up daily/quarterly score of each worker (E1)",
    responses=problem_responses(409),
)
async def enter_daily_scores(
    cycle_id: uuid.UUID, body: DailyScoresIn, principal: Writer, session: SessionDep
) -> dict[str, int]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    return {"entered": await assessments.enter_daily_scores(session, cycle, body, principal.subject)}


def result_out(r: Result) -> ResultOut:
    return ResultOut.model_validate(r, from_attributes=True)


@router.post(
    "/cycles/{cycle_id}/close",
    summary="关闭考核 compute weighted scores and grades, apply the 优秀 cap, publish results; then immutable (E1–E4)",
    responses=problem_responses(409),
)
async def close_cycle(cycle_id: uuid.UUID, principal: Writer, session: SessionDep) -> list[ResultOut]:
    cycle = await visible_cycle(session, principal, cycle_id, lock=True)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    results = await cycles.close(session, cycle, principal.subject)
    return [result_out(r) for r in results]


@list_route(
    router, "/cycles/{cycle_id}/results", ResultOut, "results", summary="考核结果 results of a closed cycle, by rank"
)
async def list_results(cycle_id: uuid.UUID, principal: ReaderOrWorker, session: SessionDep) -> list[ResultOut]:
    rows = await cycles.results_of(session, await visible_cycle(session, principal, cycle_id))
    return [result_out(r) for r in rows]


@router.post(
    "/cycles/{cycle_id}/results/{worker_id}/appeal",
    summary="申诉改判 a recorded appeal changes one result, with the reason and who decided (E4)",
    responses=problem_responses(409),
)
async def appeal(
    cycle_id: uuid.UUID, worker_id: uuid.UUID, body: AppealIn, principal: Writer, session: SessionDep
) -> ResultOut:
    cycle = await visible_cycle(session, principal, cycle_id)
    require_write(principal, cycle.township_code, NO_SUCH_CYCLE)
    return result_out(await assessments.appeal(session, cycle, worker_id, body, principal.subject))


@list_route(
    router,
    "/workers/{worker_id}/assessments",
    ResultOut,
    "assessments",
    summary="个人考核历史 a worker's annual results (the worker sees their own)",
)
async def worker_assessments(worker_id: uuid.UUID, principal: ReaderOrWorker, session: SessionDep) -> list[ResultOut]:
    return [result_out(r) for r in await cycles.results_of_worker(session, principal, worker_id)]
