"""Annual work: recuperation claims and their caps (C10), the county's pay budget for next year (C11),
and actual average pay against the policy target (C2, C3), each breach naming its rule. The routes check
the region and call ``annual_reports``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.compensation import annual_reports
from services.compensation.schemas import BudgetOut, PayComplianceOut, RecuperationDueRow
from shared.db import SessionDep
from shared.dependencies import RegionInScope, region_in_scope
from shared.inputs import year_query
from shared.list_answers import list_route
from shared.problems import problem_responses
from shared.regions import CountyCode

router = APIRouter(prefix="/v1", tags=["annual"], responses=problem_responses(401, 403, 404))


@list_route(
    router,
    "/reports/recuperation-due",
    RecuperationDueRow,
    "recuperation-due",
    summary="疗休养提醒 workers with no recuperation in the last 2 years (C10: at least one every 2 years)",
)
async def recuperation_due(
    session: SessionDep, region: RegionInScope, on: Annotated[date, Query(description="日期 as of")]
) -> list[RecuperationDueRow]:
    return await annual_reports.recuperation_due(session, region, on)


@router.get(
    "/reports/budget",
    summary="薪酬预算 a county's pay budget for a year: workforce and vacancies to the quota on the scale (C11)",
)
async def pay_budget(
    session: SessionDep,
    county: Annotated[str, region_in_scope("county", CountyCode, "县级区划代码 county")],
    year: Annotated[int, year_query("预算年度 the year budgeted")],
) -> BudgetOut:
    return await annual_reports.budget(session, county, year)


@router.get(
    "/reports/pay-compliance",
    summary="薪酬达标 actual average annual pay per post and overall (without employer parts, C1) against C2 / C3",
)
async def pay_compliance(
    session: SessionDep, region: RegionInScope, year: Annotated[int, year_query("年度 year of pay")]
) -> PayComplianceOut:
    return await annual_reports.pay_compliance(session, region, year)
