"""Monthly payroll runs: draft → calculated → approved → paid, payslips, and each worker's own payslips.

Recalculating replaces a draft's lines exactly; an approved or paid run never changes (later corrections
belong in a later run); two runs of the same region and month cannot both be approved.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import PayrollRun, Payslip, WorkerProjection, events
from services.compensation.payroll import (
    EARNINGS,
    EMPLOYER,
    TAX_BASIS,
    WORKER_DEDUCTIONS,
    balanced_partitions,
    calculate_in_partitions,
    calculate_lines,
    clear_lines,
    compute_adjustments,
    missing_scale_cells,
    update_totals,
    workers_per_county,
)
from services.compensation.policies import policy_for
from services.compensation.schemas import LineOut, PayrollRunStatus, PayslipOut, RunIn, RunOut
from shared.auth import Principal, Role, require, require_for_record
from shared.db import SessionDep
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, NotFound, UnprocessableContent, problem_responses
from shared.scoping import READ_ROLES, WRITE_ROLES, require_write, sees_region, sees_worker

router = APIRouter(prefix="/v1", tags=["payroll"])
Reader = Annotated[Principal, require(*READ_ROLES, Role.worker)]
Writer = Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)]
NO_SUCH_RUN = Message("工资核算批次不存在", "No such payroll run")


def run_out(r: PayrollRun) -> RunOut:
    return RunOut(
        id=r.id,
        region_code=r.region_code,
        month=r.month.strftime("%Y-%m"),
        status=PayrollRunStatus(r.status),
        workers=r.workers,
        gross_total=r.gross_total,
        net_total=r.net_total,
        employer_total=r.employer_total,
        approved_by=r.approved_by,
        approved_at=r.approved_at,
        version=r.version,
    )


async def visible_run(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, *, lock: bool = False
) -> PayrollRun:
    query = select(PayrollRun).where(PayrollRun.id == run_id)
    if lock:
        query = query.with_for_update()
    run = await session.scalar(query)
    if run is None or not sees_region(principal, run.region_code):
        raise NotFound(NO_SUCH_RUN)
    return run


@router.post(
    "/payroll-runs",
    summary="新建工资核算 a draft run for a region and month",
    status_code=201,
    response_model=RunOut,
    responses=problem_responses(401, 403, 404),
)
async def create_run(body: RunIn, principal: Writer, session: SessionDep) -> RunOut:
    require_write(principal, body.region_code, Message("区划不存在：{code}", "No such region: {code}"), WRITE_ROLES)
    run = PayrollRun(
        region_code=body.region_code,
        month=date.fromisoformat(body.month + "-01"),
        status="draft",
        created_by=principal.subject,
    )
    session.add(run)
    await session.flush()
    await session.refresh(run)
    await record_event(
        session,
        events,
        "payroll_run.created",
        f"payroll-run/{run.id}",
        {"region_code": run.region_code, "month": body.month},
    )
    return run_out(run)


@router.post(
    "/payroll-runs/{run_id}/calculate",
    summary="核算 calculate (or recalculate) a draft: every line, set-based, replacing the last calculation (C4–C9)",
    response_model=RunOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def calculate_run(run_id: uuid.UUID, principal: Writer, session: SessionDep, request: Request) -> RunOut:
    run = await visible_run(session, principal, run_id, lock=True)
    require_write(principal, run.region_code, NO_SUCH_RUN)
    if run.status not in ("draft", "calculated"):
        raise Conflict(Message("已审批或已发放的工资不可更改", "An approved or paid run cannot change"))
    await clear_lines(session, run)
    sizes = await workers_per_county(session, run)
    policies = {county: await policy_for(session, county, run.month.year) for county in sizes}
    missing = await missing_scale_cells(session, run, policies)
    if missing:
        cells = ", ".join(f"{county} {post} {grade}" for county, post, grade in missing[:10])
        raise UnprocessableContent(
            Message("{year} 年薪酬表缺少：{cells}", "The {year} scales lack: {cells}"),
            rule="C4",
            year=run.month.year,
            cells=cells,
        )
    await compute_adjustments(session, run, policies)
    settings = request.app.state.settings
    if (
        sum(sizes.values()) >= settings.payroll_parallel_threshold
        and settings.payroll_partitions > 1
        and len(sizes) > 1
    ):
        run.status = "calculating"
        await session.commit()  # the partitions' connections must see the run; its state keeps readers out
        groups = balanced_partitions(sizes, settings.payroll_partitions)
        try:
            await calculate_in_partitions(request.app.state.engine, run, policies, groups)
        except BaseException:
            await session.rollback()
            await clear_lines(session, run)
            run.status = "draft"
            await session.commit()
            raise
    else:
        await calculate_lines(session, run, policies)
    await update_totals(session, run)
    run.status = "calculated"
    run.version += 1
    return run_out(run)


async def _transition(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, source: str, target: str
) -> PayrollRun:
    run = await visible_run(session, principal, run_id, lock=True)
    require_write(principal, run.region_code, NO_SUCH_RUN)
    if run.status != source:
        raise Conflict(
            Message("状态为 {status}，不能执行此操作", "The run is {status}: not possible now"), status=run.status
        )
    run.status = target
    run.version += 1
    now = datetime.now(UTC)
    if target == "approved":
        run.approved_by, run.approved_at = principal.subject, now
    else:
        run.paid_at = now
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            Message("同一区划同月已有审批的工资", "Another run of this region and month is already approved")
        ) from exc
    await record_event(
        session,
        events,
        f"payroll_run.{target}",
        f"payroll-run/{run.id}",
        {
            "region_code": run.region_code,
            "month": run.month.strftime("%Y-%m"),
            "gross_total": str(run.gross_total),
            "by": principal.subject,
        },
    )
    return run


@router.post(
    "/payroll-runs/{run_id}/approve",
    summary="审批 approve a calculated run (who and when are kept)",
    response_model=RunOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def approve_run(run_id: uuid.UUID, principal: Writer, session: SessionDep) -> RunOut:
    return run_out(await _transition(session, principal, run_id, "calculated", "approved"))


@router.post(
    "/payroll-runs/{run_id}/pay",
    summary="发放 mark an approved run paid",
    response_model=RunOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def pay_run(run_id: uuid.UUID, principal: Writer, session: SessionDep) -> RunOut:
    return run_out(await _transition(session, principal, run_id, "approved", "paid"))


@router.get(
    "/payroll-runs/{run_id}",
    summary="查看工资核算 a run with its totals",
    response_model=RunOut,
    responses=problem_responses(401, 403, 404),
)
async def get_run(
    run_id: uuid.UUID, principal: Annotated[Principal, require(*READ_ROLES)], session: SessionDep
) -> RunOut:
    return run_out(await visible_run(session, principal, run_id))


def payslip(run: PayrollRun, worker: WorkerProjection, row: Payslip) -> PayslipOut:
    """The payslip's lines: earnings positive, deductions negative, employer contributions apart."""
    lines = [LineOut(kind="base", amount=row.base, basis=row.basis)]
    for kind in EARNINGS[1:]:
        amount: Decimal = getattr(row, kind)
        if amount:
            lines.append(LineOut(kind=kind, amount=amount, basis=None))
    for kind in WORKER_DEDUCTIONS:
        amount = getattr(row, kind)
        if amount:
            lines.append(LineOut(kind=kind, amount=-amount, basis=TAX_BASIS if kind == "income_tax" else None))
    for kind in EMPLOYER:
        amount = getattr(row, kind)
        if amount:
            lines.append(LineOut(kind=kind, amount=amount, basis=None))
    gross = sum((getattr(row, k) for k in EARNINGS), Decimal(0))
    return PayslipOut(
        worker_id=worker.worker_id,
        name=worker.name,
        month=run.month.strftime("%Y-%m"),
        run_id=run.id,
        status=PayrollRunStatus(run.status),
        lines=lines,
        gross=gross,
        net=gross - sum((getattr(row, k) for k in WORKER_DEDUCTIONS), Decimal(0)),
        employer=sum((getattr(row, k) for k in EMPLOYER), Decimal(0)),
    )


@router.get(
    "/payroll-runs/{run_id}/payslips",
    summary="工资条 the payslips of a run",
    response_model=list[PayslipOut],
    responses=problem_responses(401, 403, 404),
)
async def list_payslips(
    run_id: uuid.UUID,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[
        uuid.UUID | None, Query(description="上一页最后的社工编号 the last worker id of the previous page")
    ] = None,
) -> list[PayslipOut]:
    run = await visible_run(session, principal, run_id)
    query = select(Payslip, WorkerProjection).join(WorkerProjection, WorkerProjection.worker_id == Payslip.worker_id)
    query = query.where(Payslip.run_id == run.id)
    if after:
        query = query.where(Payslip.worker_id > after)
    rows = (await session.execute(query.order_by(Payslip.worker_id).limit(limit))).all()
    return [payslip(run, worker, row) for row, worker in rows]


@router.get(
    "/workers/{worker_id}/payslips",
    summary="个人工资条 a worker's payslips of approved and paid runs (the worker reads their own)",
    response_model=list[PayslipOut],
    responses=problem_responses(401, 403, 404),
)
async def worker_payslips(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> list[PayslipOut]:
    worker = await session.get(WorkerProjection, worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(Message("社工不存在", "No such worker"))
    rows = (
        await session.execute(
            select(PayrollRun, Payslip)
            .join(Payslip, Payslip.run_id == PayrollRun.id)
            .where(Payslip.worker_id == worker_id, PayrollRun.status.in_(("approved", "paid")))
            .order_by(PayrollRun.month)
        )
    ).all()
    return [payslip(run, worker, row) for run, row in rows]
