"""Social insurance and housing fund paid in full (C9): the report of worker-months where they are not."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.compensation.contributions import contribution_findings
from services.compensation.schemas import MONEY
from shared.db import SessionDep
from shared.dependencies import region_in_scope
from shared.inputs import MonthQuery
from shared.problems import problem_responses
from shared.regions import RegionCode

router = APIRouter(prefix="/v1", tags=["annual"], responses=problem_responses(401, 403, 404))


class ContributionShortfall(BaseModel):
    kind: str = Field(
        description=(
            "项目 pension, medical, unemployment, housing_fund (the worker's) or employer_pension, "
            "employer_medical, employer_unemployment, employer_injury, employer_housing_fund"
        )
    )
    expected: Decimal = Field(description="应缴 contribution base × rate, to the cent (C9), " + MONEY)
    actual: Decimal = Field(description="实缴 on the payslip, " + MONEY)
    missing: bool = Field(description="未缴 nothing paid at all")


class ContributionFindingOut(BaseModel):
    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    community_code: str = Field(description="社区 community")
    month: str = Field(description="月份 YYYY-MM")
    run_id: uuid.UUID = Field(description="工资核算批次 the approved or paid run")
    run_status: str = Field(description="批次状态 approved or paid")
    wage: Decimal = Field(description="月工资 base wage + certificate allowance of the month (C5, C8)")
    contribution_base: Decimal = Field(description="缴费基数 the wage within the year's floor and cap (C9)")
    shortfalls: list[ContributionShortfall] = Field(description="不足 contributions missing or below what is due")
    rule: str = Field(description="政策规则 C9")


class ContributionReportOut(BaseModel):
    region_code: str
    month: str = Field(description="月份 YYYY-MM")
    rule: str = Field(description="政策规则 C9: social insurance and housing fund paid in full for every worker")
    payslips_checked: int = Field(description="核查工资条数 payslips of approved and paid runs in the region")
    findings: list[ContributionFindingOut] = Field(description="问题 worker-months not paid in full")


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
