"""Annual work: recuperation claims and their caps (C10), the county's pay budget for next year (C11),
and actual average pay against the policy target (C2, C3), each breach naming its rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from starlette.responses import StreamingResponse

from services.compensation.models import (
    NOT_ON_ROLL,
    PayrollRun,
    PayScaleCell,
    Payslip,
    PostPeriod,
    QuotaProjection,
    RecuperationClaim,
    WorkerProjection,
)
from services.compensation.policies import policy_for
from services.compensation.schemas import RecuperationDueRow, TargetOut
from services.compensation.targets import compute_target
from shared.db import SessionDep
from shared.dependencies import Reader
from shared.exports import EXPORT_RESPONSES, ExportDep, exported
from shared.i18n import Message
from shared.problems import NotFound, UnprocessableContent, problem_responses
from shared.regions import CountyCode, RegionCode, scope_prefix
from shared.scoping import sees_region

router = APIRouter(prefix="/v1", tags=["annual"])
CENT = Decimal("0.01")


@router.get(
    "/reports/recuperation-due",
    summary="疗休养提醒 workers with no recuperation in the last 2 years (C10: at least one every 2 years)",
    response_model=list[RecuperationDueRow],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def recuperation_due(
    request: Request,
    export: ExportDep,
    principal: Reader,
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    on: Annotated[date, Query(description="日期 as of")],
) -> list[RecuperationDueRow] | StreamingResponse:
    if not sees_region(principal, region):
        raise NotFound(Message("区划不存在：{code}", "No such region: {code}"), code=region)
    policy = await policy_for(session, region, on.year)
    since = on - timedelta(days=365 * policy.recuperation_every_years)
    recent = select(RecuperationClaim.worker_id).where(RecuperationClaim.start_date > since)
    rows = (
        await session.scalars(
            select(WorkerProjection)
            .where(
                WorkerProjection.community_path.startswith(scope_prefix(region)),
                WorkerProjection.status.not_in(NOT_ON_ROLL),
            )
            .where(WorkerProjection.hire_date <= since, WorkerProjection.worker_id.not_in(recent))
            .order_by(WorkerProjection.name)
        )
    ).all()
    due = [
        RecuperationDueRow(worker_id=str(w.worker_id), name=w.name, community_code=w.community_code, rule="C10")
        for w in rows
    ]
    return await exported(request, export, due, RecuperationDueRow, "recuperation-due")


class BudgetOut(BaseModel):
    county_code: str = Field(description="县级区划代码 county")
    year: int = Field(description="预算年度 year budgeted")
    workers: int = Field(description="在岗人数 workers in post on 1 January")
    quota: int | None = Field(description="员额 the county's quota (S5), from the roster's feed")
    vacancies: int = Field(description="空编 quota not filled, budgeted at the average of the scale")
    pay: Decimal = Field(description="岗位工资 annual pay of the workers' cells (C4)")
    certificate_allowances: Decimal = Field(description="证书津贴 (C8) × 12")
    vacancy_pay: Decimal = Field(description="空编预算 vacancies × average pay")
    employer_contributions: Decimal = Field(description="单位缴纳 employer contributions (C9)")
    total: Decimal = Field(description="预算合计 the year's pay budget (C11)")
    rule: str = Field(description="政策规则 C11")


class PostPay(BaseModel):
    average_annual_pay: Decimal = Field(
        description="年平均工资 annualised from approved payslips (C1: without employer parts)"
    )
    worker_months: int = Field(description="人月数 payslips counted")


class PayFinding(BaseModel):
    rule: str = Field(description="政策规则 C2 or C3")
    post: str = Field(description="岗位 a post, or all")
    expected: Decimal = Field(description="应达 the target")
    actual: Decimal = Field(description="实际 the actual average")


class PayComplianceOut(BaseModel):
    region: str
    year: int
    average_annual_pay: Decimal = Field(description="年平均工资 overall")
    posts: dict[str, PostPay] = Field(description="分岗位 per post")
    target: TargetOut = Field(description="目标 C2 or C3")
    findings: list[PayFinding] = Field(description="未达标 breaches, each with its rule")


@router.get(
    "/reports/budget",
    summary="薪酬预算 a county's pay budget for a year: workforce and vacancies to the quota on the scale (C11)",
    response_model=BudgetOut,
    responses=problem_responses(401, 403, 404),
)
async def pay_budget(
    principal: Reader,
    session: SessionDep,
    county: Annotated[CountyCode, Query(description="县级区划代码 county")],
    year: Annotated[int, Query(ge=2000, le=2100, description="预算年度 the year budgeted")],
) -> BudgetOut:
    if not sees_region(principal, county):
        raise NotFound(Message("区划不存在：{code}", "No such region: {code}"), code=county)
    policy = await policy_for(session, county, year)
    cells = {
        (c.post, c.grade): c.annual_amount
        for c in (
            await session.scalars(
                select(PayScaleCell).where(PayScaleCell.region_code == county, PayScaleCell.year == year)
            )
        ).all()
    }
    if not cells:
        raise UnprocessableContent(
            Message("{county} 无 {year} 年薪酬表", "No {year} scale for {county}"), rule="C11", county=county, year=year
        )
    day = date(year, 1, 1)
    held = (
        await session.execute(
            select(PostPeriod.post, PostPeriod.grade, WorkerProjection.certificate_level)
            .join(WorkerProjection, WorkerProjection.worker_id == PostPeriod.worker_id)
            .where(
                WorkerProjection.community_path.startswith(county),
                WorkerProjection.status.not_in(NOT_ON_ROLL),
                PostPeriod.start_date <= day,
                or_(PostPeriod.end_date.is_(None), PostPeriod.end_date > day),
            )
        )
    ).all()
    missing = sorted({(post, grade) for post, grade, _ in held if (post, grade) not in cells})
    if missing:
        raise UnprocessableContent(
            Message("薪酬表缺少 {cells}", "The scale lacks {cells}"), rule="C4", cells=str(missing[:10])
        )
    pay = sum((cells[(post, grade)] for post, grade, _ in held), Decimal(0))
    allowances = sum(
        (policy.certificate_allowances.get(level or "", Decimal(0)) * 12 for _, _, level in held), Decimal(0)
    )
    quota = await session.get(QuotaProjection, (county, year))
    vacancies = max(0, (quota.headcount if quota else len(held)) - len(held))
    average = (pay / len(held)) if held else (sum(cells.values(), Decimal(0)) / len(cells))
    vacancy_pay = average * vacancies
    employer_rate = sum(policy.employer_rates.values(), Decimal(0))
    employer = (pay + allowances + vacancy_pay) * employer_rate
    total = pay + allowances + vacancy_pay + employer
    return BudgetOut(
        county_code=county,
        year=year,
        workers=len(held),
        quota=quota.headcount if quota else None,
        vacancies=vacancies,
        pay=pay.quantize(CENT),
        certificate_allowances=allowances.quantize(CENT),
        vacancy_pay=vacancy_pay.quantize(CENT, rounding=ROUND_HALF_UP),
        employer_contributions=employer.quantize(CENT, rounding=ROUND_HALF_UP),
        total=total.quantize(CENT, rounding=ROUND_HALF_UP),
        rule="C11",
    )


@router.get(
    "/reports/pay-compliance",
    summary="薪酬达标 actual average annual pay per post and overall (without employer parts, C1) against C2 / C3",
    response_model=PayComplianceOut,
    responses=problem_responses(401, 403, 404),
)
async def pay_compliance(
    principal: Reader,
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    year: Annotated[int, Query(ge=2000, le=2100, description="年度 year of pay")],
) -> PayComplianceOut:
    if not sees_region(principal, region):
        raise NotFound(Message("区划不存在：{code}", "No such region: {code}"), code=region)
    gross = Payslip.base + Payslip.certificate_allowance + Payslip.bonus + Payslip.adjustment
    mid_year = date(year, 7, 1)
    current_post = (
        select(PostPeriod.post)
        .where(PostPeriod.worker_id == Payslip.worker_id, PostPeriod.start_date <= mid_year)
        .order_by(PostPeriod.start_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                current_post.label("post"), func.sum(gross), func.count(func.distinct(Payslip.worker_id)), func.count()
            )
            .join(PayrollRun, PayrollRun.id == Payslip.run_id)
            .join(WorkerProjection, WorkerProjection.worker_id == Payslip.worker_id)
            .where(
                PayrollRun.status.in_(("approved", "paid")),
                func.extract("year", PayrollRun.month) == year,
                WorkerProjection.community_path.startswith(scope_prefix(region)),
            )
            .group_by("post")
        )
    ).all()
    target = await compute_target(session, region, year, await policy_for(session, region, year))
    posts: dict[str, PostPay] = {}
    findings: list[PayFinding] = []
    total_pay, total_months = Decimal(0), 0
    for post, pay, _workers, months in rows:
        annual = (Decimal(pay) / months * 12).quantize(CENT, rounding=ROUND_HALF_UP)
        posts[post] = PostPay(average_annual_pay=annual, worker_months=months)
        total_pay, total_months = total_pay + Decimal(pay), total_months + months
        floor = (target.post_floors or {}).get(post)
        if floor is not None and annual < floor:
            findings.append(PayFinding(rule="C3", post=post, expected=floor, actual=annual))
    overall = (total_pay / total_months * 12).quantize(CENT, rounding=ROUND_HALF_UP) if total_months else Decimal(0)
    if target.target_average is not None and total_months and overall < target.target_average:
        findings.append(PayFinding(rule="C2", post="all", expected=target.target_average, actual=overall))
    return PayComplianceOut(
        region=region, year=year, average_annual_pay=overall, posts=posts, target=target, findings=findings
    )
