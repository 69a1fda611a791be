"""Social insurance and housing fund paid in full (C9): the report of worker-months where they are not."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter

from services.compensation.contributions import contribution_findings
from services.compensation.schemas import ContributionFindingOut, ContributionReportOut, ContributionShortfall
from shared.db import SessionDep
from shared.dependencies import region_in_scope
from shared.inputs import MonthQuery
from shared.problems import problem_responses
from shared.regions import RegionCode

router = APIRouter(prefix="/v1", tags=["annual"], responses=problem_responses(401, 403, 404))


@router.get(
    "/reports/contributions",
    summary="社保公积金足额缴纳 worker-months of approved or paid runs whose contributions are missing or short (C9)",
    description=(
        "足额缴纳 (C9): each payslip of an approved or paid run must carry the worker's shares (pension, medical, "
        "unemployment, housing fund) and the employer's (pension, medical, unemployment, injury, housing fund) "
        "on the month's wage clamped to the year's contribution base floor and cap, at the county's rates. "
        "Lists every worker-month where one is missing or below that."
    ),
)
async def contributions_report(
    session: SessionDep,
    region_code: Annotated[str, region_in_scope("region_code", RegionCode, "区划 region")],
    month: MonthQuery,
) -> ContributionReportOut:
    first_day = date.fromisoformat(month + "-01")
    checked, findings = await contribution_findings(session, region_code, first_day)
    return ContributionReportOut(
        region_code=region_code,
        month=month,
        rule="C9",
        payslips_checked=checked,
        findings=[
            ContributionFindingOut(
                worker_id=f.worker_id,
                name=f.name,
                community_code=f.community_code,
                month=month,
                run_id=f.run_id,
                run_status=f.run_status,
                wage=f.wage,
                contribution_base=f.contribution_base,
                shortfalls=[
                    ContributionShortfall(kind=s.column, expected=s.expected, actual=s.actual, missing=s.missing)
                    for s in f.shortfalls
                ],
                rule="C9",
            )
            for f in findings
        ],
    )
