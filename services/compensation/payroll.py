"""The monthly payroll calculation: one set-based INSERT … SELECT per county (ARCHITECTURE rule 5).

For every worker of the run's region who is employed in the month it computes, in SQL:

- the days in each post and grade inside the month (C6: pay starts in the month of taking the post —
  the joining month in full unless the policy says ``prorate``; the leaving month to the leaving date,
  e.g. leaving on the 10th of a 30-day month pays 10/30; a change of post or grade mid-month by days);
- the base wage: the cell of the county's 三岗十八级 scale (C4) × the base share (C5, 70 %) ÷ 12 ×
  the share of the month;
- the certificate allowance (C8) for the month, prorated the same way;
- the worker's social insurance and housing fund on the contribution base, clamped to the year's
  bounds (C9), and the employer's contributions as separate lines (C1: not pay);
- individual income tax by cumulative withholding over the year's approved runs (累计预扣法).

Every line is rounded to the cent; the run's totals are the sums of its lines, so they reconcile exactly.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.income_tax import sql_cumulative_tax
from services.compensation.domain.policy import PayPolicy
from services.compensation.models import PayrollRun, PayslipLine, WorkerProjection
from shared.regions import scope_prefix

EARNINGS = ("base", "certificate_allowance", "bonus", "adjustment")
WORKER_DEDUCTIONS = ("pension", "medical", "unemployment", "housing_fund", "income_tax")
EMPLOYER = ("employer_pension", "employer_medical", "employer_unemployment", "employer_injury", "employer_housing_fund")

_PARAMS = """
params AS (
    SELECT CAST(:m_start AS date) AS m_start, CAST(:m_end AS date) AS m_end, CAST(:y_start AS date) AS y_start,
           CAST(:days AS numeric) AS days, CAST(:year AS integer) AS year, CAST(:county AS text) AS county,
           CAST(:base_share AS numeric) AS base_share, CAST(:joining_full AS boolean) AS joining_full
),
month_workers AS (
    SELECT w.worker_id, w.hire_date, w.left_date, w.certificate_level, w.certificate_date
    FROM compensation.workers w, params
    WHERE w.community_path LIKE :prefix AND w.community_path LIKE params.county || '%'
      AND w.hire_date <= params.m_end AND (w.left_date IS NULL OR w.left_date >= params.m_start)
),
segments AS (
    SELECT mw.worker_id, p.post, p.grade,
           GREATEST(CASE WHEN params.joining_full AND p.start_date <= mw.hire_date THEN params.m_start ELSE p.start_date END,
                    params.m_start) AS s,
           LEAST(COALESCE(p.end_date - 1, params.m_end), params.m_end, COALESCE(mw.left_date, params.m_end)) AS e
    FROM month_workers mw
    JOIN compensation.post_periods p ON p.worker_id = mw.worker_id
    CROSS JOIN params
    WHERE p.start_date <= params.m_end AND (p.end_date IS NULL OR p.end_date > params.m_start)
)
"""

MISSING_CELLS_SQL = text(
    "WITH "
    + _PARAMS
    + """
    SELECT DISTINCT sg.post, sg.grade
    FROM segments sg CROSS JOIN params
    LEFT JOIN compensation.pay_scale_cells c
           ON c.region_code = params.county AND c.year = params.year AND c.post = sg.post AND c.grade = sg.grade
    WHERE sg.e >= sg.s AND c.annual_amount IS NULL
    """
)

CALCULATE_SQL = text(
    "WITH "
    + _PARAMS
    + f""",
pay AS (
    SELECT sg.worker_id,
           round(sum(c.annual_amount * params.base_share / 12 * ((sg.e - sg.s + 1) / params.days)), 2) AS base,
           least(sum(sg.e - sg.s + 1) / params.days, 1) AS fraction,
           string_agg(sg.post || ' ' || sg.grade || ' ' || (sg.e - sg.s + 1) || '/' || params.days::int, '; ' ORDER BY sg.s) AS basis
    FROM segments sg CROSS JOIN params
    JOIN compensation.pay_scale_cells c
      ON c.region_code = params.county AND c.year = params.year AND c.post = sg.post AND c.grade = sg.grade
    WHERE sg.e >= sg.s
    GROUP BY sg.worker_id, params.days
),
gross AS (
    SELECT p.worker_id, p.base, p.basis, mw.hire_date,
           round(CASE mw.certificate_level WHEN 'senior' THEN CAST(:allow_senior AS numeric)
                                           WHEN 'social_worker' THEN CAST(:allow_social_worker AS numeric)
                                           WHEN 'assistant' THEN CAST(:allow_assistant AS numeric) ELSE 0 END
                 * CASE WHEN mw.certificate_date <= params.m_end THEN p.fraction ELSE 0 END, 2) AS allowance
    FROM pay p JOIN month_workers mw USING (worker_id) CROSS JOIN params
),
contributions AS (
    SELECT g.*, g.base + g.allowance AS gross_pay,
           least(greatest(g.base + g.allowance, CAST(:base_min AS numeric)), CAST(:base_max AS numeric)) AS cbase
    FROM gross g
),
deductions AS (
    SELECT c.*,
           round(c.cbase * CAST(:e_pension AS numeric), 2) AS e_pension,
           round(c.cbase * CAST(:e_medical AS numeric), 2) AS e_medical,
           round(c.cbase * CAST(:e_unemployment AS numeric), 2) AS e_unemployment,
           round(c.cbase * CAST(:e_housing_fund AS numeric), 2) AS e_housing_fund
    FROM contributions c
),
ytd AS (
    SELECT l.worker_id,
           coalesce(sum(l.amount) FILTER (WHERE l.kind IN ('base', 'certificate_allowance', 'bonus', 'adjustment')), 0) AS gross,
           coalesce(-sum(l.amount) FILTER (WHERE l.kind IN ('pension', 'medical', 'unemployment', 'housing_fund')), 0) AS contributions,
           coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'income_tax'), 0) AS tax
    FROM compensation.payslip_lines l
    JOIN compensation.payroll_runs r ON r.id = l.run_id
    CROSS JOIN params
    WHERE r.status IN ('approved', 'paid') AND r.month >= params.y_start AND r.month < params.m_start
      AND l.worker_id IN (SELECT worker_id FROM month_workers)
    GROUP BY l.worker_id
),
taxable AS (
    SELECT d.*, coalesce(y.tax, 0) AS ytd_tax,
           coalesce(y.gross, 0) + d.gross_pay - coalesce(y.contributions, 0)
             - (d.e_pension + d.e_medical + d.e_unemployment + d.e_housing_fund)
             - CAST(:standard_deduction AS numeric)
               * (extract(month FROM params.m_start) - extract(month FROM greatest(d.hire_date, params.y_start)) + 1) AS income
    FROM deductions d CROSS JOIN params LEFT JOIN ytd y USING (worker_id)
),
final AS (
    SELECT t.*, greatest({sql_cumulative_tax("t.income")} - t.ytd_tax, 0) AS income_tax FROM taxable t
)
INSERT INTO compensation.payslip_lines (run_id, worker_id, kind, amount, basis)
SELECT CAST(:run_id AS uuid), f.worker_id, v.kind, v.amount, v.basis
FROM final f CROSS JOIN LATERAL (VALUES
    ('base', f.base, f.basis),
    ('certificate_allowance', f.allowance, NULL),
    ('pension', -f.e_pension, NULL),
    ('medical', -f.e_medical, NULL),
    ('unemployment', -f.e_unemployment, NULL),
    ('housing_fund', -f.e_housing_fund, NULL),
    ('income_tax', -f.income_tax, '累计预扣法 cumulative withholding'),
    ('employer_pension', round(f.cbase * CAST(:r_pension AS numeric), 2), NULL),
    ('employer_medical', round(f.cbase * CAST(:r_medical AS numeric), 2), NULL),
    ('employer_unemployment', round(f.cbase * CAST(:r_unemployment AS numeric), 2), NULL),
    ('employer_injury', round(f.cbase * CAST(:r_injury AS numeric), 2), NULL),
    ('employer_housing_fund', round(f.cbase * CAST(:r_housing_fund AS numeric), 2), NULL)
) AS v(kind, amount, basis)
WHERE v.amount <> 0 OR v.kind = 'base'
"""
)


def month_bounds(month: date) -> tuple[date, date, int]:
    days = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=days), days


def sql_parameters(run: PayrollRun, county: str, policy: PayPolicy) -> dict[str, Any]:
    m_start, m_end, days = month_bounds(run.month)
    e, r = policy.employee_rates, policy.employer_rates
    allowances = policy.certificate_allowances
    return {
        "run_id": str(run.id),
        "prefix": scope_prefix(run.region_code) + "%",
        "county": county,
        "m_start": m_start,
        "m_end": m_end,
        "y_start": m_start.replace(month=1),
        "days": days,
        "year": m_start.year,
        "base_share": policy.base_share,
        "joining_full": policy.joining_month == "full",
        "allow_senior": allowances.get("senior", Decimal(0)),
        "allow_social_worker": allowances.get("social_worker", Decimal(0)),
        "allow_assistant": allowances.get("assistant", Decimal(0)),
        "base_min": policy.contribution_base_min,
        "base_max": policy.contribution_base_max,
        "e_pension": e.get("pension", Decimal(0)),
        "e_medical": e.get("medical", Decimal(0)),
        "e_unemployment": e.get("unemployment", Decimal(0)),
        "e_housing_fund": e.get("housing_fund", Decimal(0)),
        "r_pension": r.get("pension", Decimal(0)),
        "r_medical": r.get("medical", Decimal(0)),
        "r_unemployment": r.get("unemployment", Decimal(0)),
        "r_injury": r.get("injury", Decimal(0)),
        "r_housing_fund": r.get("housing_fund", Decimal(0)),
        "standard_deduction": policy.monthly_standard_deduction,
    }


async def counties_of_run(session: AsyncSession, run: PayrollRun) -> list[str]:
    rows = await session.scalars(
        select(func.left(WorkerProjection.community_path, 6))
        .where(WorkerProjection.community_path.startswith(scope_prefix(run.region_code)))
        .distinct()
    )
    return sorted(rows.all())


async def missing_scale_cells(
    session: AsyncSession, run: PayrollRun, county: str, policy: PayPolicy
) -> list[tuple[str, int]]:
    rows = await session.execute(MISSING_CELLS_SQL, sql_parameters(run, county, policy))
    return [(post, grade) for post, grade in rows.all()]


async def calculate_lines(session: AsyncSession, run: PayrollRun, county: str, policy: PayPolicy) -> None:
    await session.execute(CALCULATE_SQL, sql_parameters(run, county, policy))


async def clear_lines(session: AsyncSession, run: PayrollRun) -> None:
    await session.execute(delete(PayslipLine).where(PayslipLine.run_id == run.id))


async def update_totals(session: AsyncSession, run: PayrollRun) -> None:
    """The run's totals are the sums of its lines: they reconcile to the cent by construction."""
    row = (
        await session.execute(
            select(
                func.count(func.distinct(PayslipLine.worker_id)),
                func.coalesce(func.sum(PayslipLine.amount).filter(PayslipLine.kind.in_(EARNINGS)), 0),
                func.coalesce(
                    func.sum(PayslipLine.amount).filter(PayslipLine.kind.in_(EARNINGS + WORKER_DEDUCTIONS)), 0
                ),
                func.coalesce(func.sum(PayslipLine.amount).filter(PayslipLine.kind.in_(EMPLOYER)), 0),
            ).where(PayslipLine.run_id == run.id)
        )
    ).one()
    run.workers, run.gross_total, run.net_total, run.employer_total = int(row[0]), row[1], row[2], row[3]
    run.calculated_at = datetime.now(UTC)
