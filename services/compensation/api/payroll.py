"""Monthly payroll runs: draft → calculated → approved → paid, payslips, and each worker's own payslips.

Recalculating replaces a run's lines exactly; an approved or paid run never changes (later corrections are
adjustments of a later run); a worker-month is paid by one payslip whatever the level of the run; a run is
calculated all or nothing (see ``services.compensation.payroll_runs``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.compensation import payroll_runs, payslips, run_lists
from services.compensation.payroll_runs import Overlap
from services.compensation.run_lists import run_out
from services.compensation.schemas import PayrollRunStatus, PayslipOut, ReversalIn, RunIn, RunOut
from services.compensation.state import compensation_state
from shared.auth import Principal
from shared.db import SessionDep
from shared.dependencies import Admin, Reader, ReaderOrWorker, Writer
from shared.exports import ExportDep, exported_pages
from shared.i18n import Message
from shared.inputs import month_query
from shared.list_answers import list_route, paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses
from shared.regions import RegionCode
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, WRITE_ROLES, require_write
from shared.sync import UpdatedSince

router = APIRouter(prefix="/v1", tags=["payroll"], responses=problem_responses(401, 403, 404))
NO_SUCH_RUN = Message("工资核算批次不存在", "No such payroll run")


@router.post("/payroll-runs", summary="新建工资核算 a draft run for a region and month", status_code=201)
async def create_run(body: RunIn, principal: Writer, session: SessionDep) -> RunOut:
    require_write(principal, body.region_code, NO_SUCH_REGION, WRITE_ROLES)
    run = await payroll_runs.create(session, body.region_code, body.month, principal.subject)
    return run_out(run)


@paged_route(
    router,
    "/payroll-runs",
    RunOut,
    "payroll-runs",
    summary="工资核算列表 runs, filtered by region, month and status, newest month first",
)
async def list_runs(
    at: PageAt,
    principal: Reader,
    region_code: Annotated[
        RegionCode | None, Query(description="区划 runs of this region and the regions inside it")
    ] = None,
    month: Annotated[str | None, month_query()] = None,
    status: PayrollRunStatus | None = None,
    updated_since: UpdatedSince = None,
) -> Page[RunOut]:
    return await run_lists.runs_page(at, principal, region_code, month, status, updated_since)


@router.post(
    "/payroll-runs/{run_id}/calculate",
    summary="核算 calculate (or recalculate) a run: every line, set-based, replacing the last calculation (C4–C9)",
    description=(
        "A worker-month is paid once, whatever the level of the run: the first run calculated holds the month "
        "of each of its workers (a unique index on payslips enforces it). `overlap=refuse` (default) answers "
        "409 naming every other run of the month that holds some of this run's workers or is unfinished in "
        "an overlapping region; `overlap=exclude` leaves those workers out and lists the runs in `excluded`. "
        "Months already approved are never priced again: back-dated changes (grade, certificate, leaving) "
        "are paid as adjustment lines of this run. A large run is split by county over several connections "
        "and is all or nothing: any failure ends it `failed` with no lines (calculate again); a run whose "
        "process died is failed within a minute by its expired lease."
    ),
    responses=problem_responses(409, 422, 503),
)
async def calculate_run(
    run_id: uuid.UUID,
    principal: Writer,
    session: SessionDep,
    request: Request,
    overlap: Annotated[
        Overlap, Query(description="重叠处理 refuse: 409 when another run holds workers; exclude: leave them out")
    ] = Overlap.refuse,
) -> RunOut:
    run = await payroll_runs.visible_run(session, principal, run_id, lock=True)
    require_write(principal, run.region_code, NO_SUCH_RUN)
    state = compensation_state(request)
    run = await payroll_runs.calculate(session, state.engine, state.settings, run, overlap, principal.subject)
    return run_out(run)


@router.post(
    "/payroll-runs/{run_id}/cancel",
    summary="撤销 cancel a run not yet approved: its lines go and its workers' month is free for another run",
    responses=problem_responses(409),
)
async def cancel_run(run_id: uuid.UUID, principal: Writer, session: SessionDep) -> RunOut:
    run = await payroll_runs.visible_run(session, principal, run_id, lock=True)
    require_write(principal, run.region_code, NO_SUCH_RUN)
    return run_out(await payroll_runs.cancel(session, run, principal.subject))


async def _advance(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, target: PayrollRunStatus, request: Request
) -> RunOut:
    run = await payroll_runs.visible_run(session, principal, run_id, lock=True)
    require_write(principal, run.region_code, NO_SUCH_RUN)
    separate = compensation_state(request).settings.payroll_separate_approval
    return run_out(await payroll_runs.advance(session, run, target, principal.subject, separate_approval=separate))


@router.post(
    "/payroll-runs/{run_id}/approve",
    summary="审批 approve a calculated run (who and when are kept)",
    description=(
        "不相容职务分离: the person who asked for the run's last calculation (`calculated_by`) does not approve "
        "it — 403; another person with the right to the region does. A deployment where one officer must do "
        "both turns it off (`SHEGONG_COMPENSATION_PAYROLL_SEPARATE_APPROVAL=false`, docs/operations.md)."
    ),
    responses=problem_responses(409),
)
async def approve_run(run_id: uuid.UUID, principal: Writer, session: SessionDep, request: Request) -> RunOut:
    return await _advance(session, principal, run_id, PayrollRunStatus.approved, request)


@router.post("/payroll-runs/{run_id}/pay", summary="发放 mark an approved run paid", responses=problem_responses(409))
async def pay_run(run_id: uuid.UUID, principal: Writer, session: SessionDep, request: Request) -> RunOut:
    return await _advance(session, principal, run_id, PayrollRunStatus.paid, request)


@router.post(
    "/payroll-runs/{run_id}/reverse",
    summary="冲销 reverse an approved run not yet paid: its lines go and its workers' month is free for a new run",
    description=(
        "County level and above (like the budget it pays from, C11). Only an `approved` run can be reversed: "
        "the reason, who and when are kept on the run, its payslips and corrections are removed (a new run of "
        "the month may then be calculated; a worker-month is paid once) and `payroll_run.reversed` is "
        "published. 409 for a `paid` run (money paid out is not taken back by a change of state: recover it "
        "as a negative correction in a later run), for any other state, and while another live run holds a "
        "correction computed against this run's payslips or a C5 bonus payout that counted this run's "
        "(`dependent_runs`: cancel or reverse them first)."
    ),
    responses=problem_responses(409, 422),
)
async def reverse_run(run_id: uuid.UUID, body: ReversalIn, principal: Admin, session: SessionDep) -> RunOut:
    run = await payroll_runs.visible_run(session, principal, run_id)
    require_write(principal, run.region_code, NO_SUCH_RUN, ADMIN_WRITE_ROLES)
    return run_out(await payroll_runs.reverse(session, run.id, body.reason, principal.subject))


@router.get("/payroll-runs/{run_id}", summary="查看工资核算 a run with its totals")
async def get_run(run_id: uuid.UUID, principal: Reader, session: SessionDep) -> RunOut:
    return run_out(await payroll_runs.visible_run(session, principal, run_id))


@list_route(
    router,
    "/payroll-runs/{run_id}/payslips",
    PayslipOut,
    summary="工资条 the payslips of a run (409 for a run with none: draft, calculating, failed, cancelled, reversed)",
    problems=(401, 403, 404, 409),
)
async def list_payslips(
    request: Request,
    export: ExportDep,
    run_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[
        uuid.UUID | None, Query(description="上一页最后的社工编号 the last worker id of the previous page")
    ] = None,
) -> list[PayslipOut] | StreamingResponse:
    run = await payslips.run_with_payslips(session, principal, run_id)

    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[PayslipOut]:
        return await payslips.payslips_page(session, run, cursor, limit)

    if export is not None:  # the whole run, batch after batch (`limit` and `after` do not apply)
        return await exported_pages(request, export, page, PayslipOut, "payslips")
    return (await page(session, str(after) if after else None, limit)).items


@list_route(
    router,
    "/workers/{worker_id}/payslips",
    PayslipOut,
    "payslips",
    summary="个人工资条 a worker's payslips of approved and paid runs (the worker reads their own)",
)
async def worker_payslips(worker_id: uuid.UUID, principal: ReaderOrWorker, session: SessionDep) -> list[PayslipOut]:
    return await payslips.of_worker(session, principal, worker_id)
