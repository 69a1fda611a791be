"""The C9 contributions report: for a region and month, every payslip of an approved or paid run whose
social insurance or housing fund — the worker's shares or the employer's — is missing or below what the
month's wage requires on the contribution base clamped to the year's floor and cap.

Payslips are read with plain SELECTs (never written here); the rule itself is
:mod:`services.compensation.domain.contributions`, applied with each county's policy for the year.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.contributions import (
    COLUMNS,
    Shortfall,
    clamped_base,
    contribution_wage,
    expected_contributions,
    shortfalls,
)
from services.compensation.domain.policy import PayPolicy
from services.compensation.models import PayrollRun, Payslip, WorkerProjection
from services.compensation.policies import policy_for
from shared.regions import scope_prefix


@dataclass(frozen=True)
class ContributionFinding:
    worker_id: uuid.UUID
    name: str
    community_code: str
    run_id: uuid.UUID
    run_status: str
    wage: Decimal
    contribution_base: Decimal
    shortfalls: list[Shortfall]


async def contribution_findings(
    session: AsyncSession, region: str, month: date
) -> tuple[int, list[ContributionFinding]]:
    """(payslips checked, findings) of approved and paid runs for ``month`` in ``region`` (C9)."""
    rows = (
        await session.execute(
            select(
                Payslip.run_id,
                Payslip.worker_id,
                Payslip.base,
                Payslip.certificate_allowance,
                *(getattr(Payslip, column) for column in COLUMNS),
                PayrollRun.status,
                WorkerProjection.name,
                WorkerProjection.community_code,
                func.left(WorkerProjection.community_path, 6).label("county"),
            )
            .join(PayrollRun, PayrollRun.id == Payslip.run_id)
            .join(WorkerProjection, WorkerProjection.worker_id == Payslip.worker_id)
            .where(
                Payslip.month == month,
                PayrollRun.status.in_(("approved", "paid")),
                WorkerProjection.community_path.startswith(scope_prefix(region)),
            )
            .order_by(Payslip.worker_id)
        )
    ).all()
    policies: dict[str, PayPolicy] = {}
    findings: list[ContributionFinding] = []
    for row in rows:
        if row.county not in policies:
            policies[row.county] = await policy_for(session, row.county, month.year)
        policy = policies[row.county]
        wage = contribution_wage(row.base, row.certificate_allowance)
        short = shortfalls({c: getattr(row, c) for c in COLUMNS}, expected_contributions(wage, policy))
        if short:
            findings.append(
                ContributionFinding(
                    worker_id=row.worker_id,
                    name=row.name,
                    community_code=row.community_code,
                    run_id=row.run_id,
                    run_status=row.status,
                    wage=wage,
                    contribution_base=clamped_base(wage, policy),
                    shortfalls=short,
                )
            )
    return len(rows), findings
