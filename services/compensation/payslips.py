"""Payslips as the API shows them: a run's, page by page (only a calculated, approved or paid run has any), and
a worker's own of approved and paid runs. Each payslip lists earnings positive, deductions negative and the
employer's contributions apart."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import PayrollRun, Payslip, WorkerProjection
from services.compensation.payroll import EARNINGS, EMPLOYER, TAX_BASIS, WORKER_DEDUCTIONS
from services.compensation.payroll_runs import visible_run
from services.compensation.schemas import LineOut, PayrollRunStatus, PayslipOut
from shared.auth import Principal
from shared.i18n import Message
from shared.pagination import Page
from shared.problems import Conflict
from shared.scoping import visible_projected_worker

WITH_PAYSLIPS = (PayrollRunStatus.calculated, PayrollRunStatus.approved, PayrollRunStatus.paid)


def payslip(run: PayrollRun, worker: WorkerProjection, row: Payslip) -> PayslipOut:
    """The payslip's lines: earnings positive, deductions negative, employer contributions apart."""
    lines = [LineOut(kind="base", amount=row.base, basis=row.basis)]
    for kind in EARNINGS[1:]:
        amount: Decimal = getattr(row, kind)
        if amount:
            lines.append(LineOut(kind=kind, amount=amount, basis=row.bonus_basis if kind == "bonus" else None))
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


async def run_with_payslips(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> PayrollRun:
    """The visible run, 409 unless it has payslips (calculated, approved or paid)."""
    run = await visible_run(session, principal, run_id)
    if run.status not in WITH_PAYSLIPS:
        raise Conflict(
            Message("状态为 {status} 的核算批次没有工资条", "A run that is {status} has no payslips"), status=run.status
        )
    return run


async def payslips_page(session: AsyncSession, run: PayrollRun, cursor: str | None, limit: int) -> Page[PayslipOut]:
    """The run's payslips by worker id after ``cursor`` (a worker id)."""
    query = (
        select(Payslip, WorkerProjection)
        .join(WorkerProjection, WorkerProjection.worker_id == Payslip.worker_id)
        .where(Payslip.run_id == run.id)
    )
    if cursor:
        query = query.where(Payslip.worker_id > uuid.UUID(cursor))
    rows = (await session.execute(query.order_by(Payslip.worker_id).limit(limit))).all()
    items = [payslip(run, worker, row) for row, worker in rows]
    return Page[PayslipOut](items=items, next_cursor=str(items[-1].worker_id) if len(items) == limit else None)


async def of_worker(session: AsyncSession, principal: Principal, worker_id: uuid.UUID) -> list[PayslipOut]:
    """A visible worker's payslips of approved and paid runs, by month."""
    worker = await visible_projected_worker(session, WorkerProjection, principal, worker_id)
    rows = (
        await session.execute(
            select(PayrollRun, Payslip)
            .join(Payslip, Payslip.run_id == PayrollRun.id)
            .where(Payslip.worker_id == worker_id, PayrollRun.status.in_(("approved", "paid")))
            .order_by(PayrollRun.month)
        )
    ).all()
    return [payslip(run, worker, row) for run, row in rows]
