"""Annual reports: recuperation due (C10), next year's pay budget (C11) and actual pay against the
policy target (C2, C3). The queries are here; the arithmetic is in ``domain.budget`` and
``domain.targets``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.budget import missing_cells, pay_budget
from services.compensation.domain.targets import annualised, pay_shortfalls
from services.compensation.models import (
    PayrollRun,
    PayScaleCell,
    Payslip,
    PostPeriod,
    QuotaProjection,
    RecuperationClaim,
    WorkerProjection,
)
from services.compensation.pay_scales import posts_held
from services.compensation.payroll import GROSS
from services.compensation.policies import policy_for
from services.compensation.schemas import BudgetOut, PayComplianceOut, PayFinding, PostPay, RecuperationDueRow
from services.compensation.targets import target_in_force
from shared.i18n import Message
from shared.problems import UnprocessableContent
from shared.projections import NOT_ON_ROLL
from shared.regions import scope_prefix


async def recuperation_due(session: AsyncSession, region: str, on: date) -> list[RecuperationDueRow]:
    """C10: workers on the roll since before the window with no recuperation in it (every 2 years)."""
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
    return [
        RecuperationDueRow(worker_id=str(w.worker_id), name=w.name, community_code=w.community_code, rule="C10")
        for w in rows
    ]


async def budget(session: AsyncSession, county: str, year: int) -> BudgetOut:
    """C11 for ``county`` and ``year``: 422 when the year has no scale or lacks a cell held (C4)."""
    policy = await policy_for(session, county, year)
    scale = select(PayScaleCell).where(PayScaleCell.region_code == county, PayScaleCell.year == year)
    cells = {(c.post, c.grade): c.annual_amount for c in (await session.scalars(scale)).all()}
    if not cells:
        raise UnprocessableContent(
            Message("{county} 无 {year} 年薪酬表", "No {year} scale for {county}"), rule="C11", county=county, year=year
        )
    day = date(year, 1, 1)
    held = [(post, grade, level) for post, grade, level in (await session.execute(posts_held(county, day))).all()]
    missing = missing_cells(cells, [(post, grade) for post, grade, _ in held])
    if missing:
        raise UnprocessableContent(
            Message("薪酬表缺少 {cells}", "The scale lacks {cells}"), rule="C4", cells=str(missing[:10])
        )
    quota = await session.get(QuotaProjection, (county, year))
    figures = pay_budget(
        cells, held, quota.headcount if quota else None, policy.certificate_allowances, policy.employer_rates
    )
    return BudgetOut(
        county_code=county,
        year=year,
        workers=figures.workers,
        quota=quota.headcount if quota else None,
        vacancies=figures.vacancies,
        pay=figures.pay,
        certificate_allowances=figures.certificate_allowances,
        vacancy_pay=figures.vacancy_pay,
        employer_contributions=figures.employer_contributions,
        total=figures.total,
        rule="C11",
    )


async def pay_compliance(session: AsyncSession, region: str, year: int) -> PayComplianceOut:
    """Average annual pay per post (the post held mid-year) and overall, from approved payslips, against
    the C2 target or the C3 floors. Pay is what was paid in the year (C1: without the employer's parts),
    the C5 bonus included; a worker-month is a payslip with a wage (one of the bonus or a correction alone,
    paid to a worker who has left, adds its money but no month)."""
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
            select(current_post.label("post"), func.sum(GROSS), func.count().filter(Payslip.base != 0))
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
    target = await target_in_force(session, region, year)
    posts = {
        post: PostPay(average_annual_pay=annualised(Decimal(pay), months), worker_months=months)
        for post, pay, months in rows
        if months  # a post held only by leavers paid a bonus or a correction alone has no average
    }
    total_months = sum(months for _, _, months in rows)
    overall = annualised(sum((Decimal(pay) for _, pay, _ in rows), Decimal(0)), total_months)
    shortfalls = pay_shortfalls(
        {post: p.average_annual_pay for post, p in posts.items()},
        overall if total_months else None,
        target.target_average,
        target.post_floors,
    )
    return PayComplianceOut(
        region=region,
        year=year,
        average_annual_pay=overall,
        posts=posts,
        target=target,
        findings=[PayFinding(rule=r, post=p, expected=e, actual=a) for r, p, e, a in shortfalls],
    )
