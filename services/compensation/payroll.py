"""The monthly payroll calculation: one set-based INSERT … SELECT for the whole run (ARCHITECTURE rule 5).

Each county's policy (base share, allowances, rates …) enters the statement as a row of a small
``county_policy`` table (JSON), so a city- or province-wide run is still one statement.

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

import asyncio
import calendar
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.compensation.domain.income_tax import sql_cumulative_tax
from services.compensation.domain.policy import PayPolicy
from services.compensation.models import BonusPayout, PayrollAdjustment, PayrollRun, Payslip
from shared.policy_rules import decides
from shared.regions import scope_prefix

EARNINGS = ("base", "certificate_allowance", "bonus", "adjustment")
WORKER_DEDUCTIONS = ("pension", "medical", "unemployment", "housing_fund", "income_tax")
EMPLOYER = ("employer_pension", "employer_medical", "employer_unemployment", "employer_injury", "employer_housing_fund")
TAX_BASIS = "累计预扣法 cumulative withholding"

# Who is employed in the month: one row per employment that touches it (a person hired again later keeps
# one worker id and gets a second employment). ``{only}`` narrows the workers (a fixed fragment below).
_PARAMS = """
params AS (
    SELECT CAST(:m_start AS date) AS m_start, CAST(:m_end AS date) AS m_end, CAST(:y_start AS date) AS y_start,
           CAST(:days AS numeric) AS days, CAST(:year AS integer) AS year
),
county_policy AS (
    SELECT * FROM jsonb_to_recordset(CAST(:county_policies AS jsonb)) AS cp(
        county text, base_share numeric, joining_full boolean,
        allow_senior numeric, allow_social_worker numeric, allow_assistant numeric,
        base_min numeric, base_max numeric,
        e_pension numeric, e_medical numeric, e_unemployment numeric, e_housing_fund numeric,
        r_pension numeric, r_medical numeric, r_unemployment numeric, r_injury numeric, r_housing_fund numeric,
        standard_deduction numeric)
),
month_workers AS (
    SELECT w.worker_id, e.hire_date, e.left_date, w.certificate_level, w.certificate_date, cp.county,
           -- C6 joining month in full, unless the person already worked earlier in that month (re-hired)
           CASE WHEN cp.joining_full AND e.hire_date >= params.m_start
                THEN NOT EXISTS (SELECT 1 FROM compensation.employments before
                                 WHERE before.worker_id = e.worker_id AND before.hire_date < e.hire_date
                                   AND before.left_date >= params.m_start)
                ELSE cp.joining_full END AS joining_full
    FROM compensation.workers w
    JOIN compensation.employments e ON e.worker_id = w.worker_id
    JOIN county_policy cp ON cp.county = left(w.community_path, 6)
    CROSS JOIN params
    WHERE w.community_path LIKE :prefix
      AND e.hire_date <= params.m_end AND (e.left_date IS NULL OR e.left_date >= params.m_start)
      {only}
),
segments AS (
    SELECT mw.worker_id, mw.county, mw.hire_date, mw.certificate_level, mw.certificate_date, p.post, p.grade,
           -- C6 joining month in full: the post held on the hire date pays from the 1st (not a post
           -- of an earlier employment that ended on the day of a re-hire)
           GREATEST(CASE WHEN mw.joining_full AND p.start_date <= mw.hire_date
                              AND (p.end_date IS NULL OR p.end_date > mw.hire_date) THEN params.m_start
                         ELSE GREATEST(p.start_date, mw.hire_date) END,
                    params.m_start) AS s,
           LEAST(COALESCE(p.end_date - 1, params.m_end), params.m_end, COALESCE(mw.left_date, params.m_end)) AS e
    FROM month_workers mw
    JOIN compensation.post_periods p ON p.worker_id = mw.worker_id
    CROSS JOIN params
    WHERE p.start_date <= params.m_end AND (p.end_date IS NULL OR p.end_date > params.m_start)
)
"""

# The fixed narrowings of ``month_workers`` (never built from input).
EVERYONE = ""
# Paid once: leave out workers whose month another run already holds a payslip for.
NOT_COVERED = """AND NOT EXISTS (SELECT 1 FROM compensation.payslips ps
                      WHERE ps.worker_id = w.worker_id AND ps.month = params.m_start)"""
# Corrections: only the workers named.
NAMED = "AND w.worker_id = ANY(CAST(:worker_ids AS uuid[]))"


def _with_params(only: str) -> str:
    return "WITH " + _PARAMS.format(only=only)


MISSING_CELLS_SQL = text(
    _with_params(EVERYONE)
    + """
    SELECT DISTINCT sg.county, sg.post, sg.grade
    FROM segments sg CROSS JOIN params
    LEFT JOIN compensation.pay_scale_cells c
           ON c.region_code = sg.county AND c.year = params.year AND c.post = sg.post AND c.grade = sg.grade
    WHERE sg.e >= sg.s AND c.annual_amount IS NULL
    ORDER BY 1, 2, 3
    """
)

_PAY_GROSS = """
pay AS (
    SELECT sg.worker_id, sg.county, min(sg.hire_date) AS hire_date, sg.certificate_level, sg.certificate_date,
           sum(c.annual_amount / 12 * ((sg.e - sg.s + 1) / params.days)) AS annual_share,
           least(sum(sg.e - sg.s + 1) / params.days, 1) AS fraction,
           string_agg(sg.post || ' ' || sg.grade || ' ' || (sg.e - sg.s + 1) || '/' || params.days::int, '; ' ORDER BY sg.s) AS basis
    FROM segments sg CROSS JOIN params
    JOIN compensation.pay_scale_cells c
      ON c.region_code = sg.county AND c.year = params.year AND c.post = sg.post AND c.grade = sg.grade
    WHERE sg.e >= sg.s
    GROUP BY sg.worker_id, sg.county, sg.certificate_level, sg.certificate_date, params.days
),
gross AS MATERIALIZED (  -- once per worker: the deductions below read base and allowance many times
    SELECT p.worker_id, p.hire_date, p.basis, cp.*, round(p.annual_share * cp.base_share, 2) AS base,
           round(CASE p.certificate_level WHEN 'senior' THEN cp.allow_senior
                                          WHEN 'social_worker' THEN cp.allow_social_worker
                                          WHEN 'assistant' THEN cp.allow_assistant ELSE 0 END
                 * CASE WHEN p.certificate_date <= params.m_end THEN p.fraction ELSE 0 END, 2) AS allowance
    FROM pay p JOIN county_policy cp ON cp.county = p.county CROSS JOIN params
)
"""

# Statuses whose lines and adjustments stand (a failed or cancelled run keeps none).
LIVE = "('calculating', 'calculated', 'approved', 'paid')"

# The run's C5 bonus payouts per worker (``bonus_payouts.py``): their sum is the payslip's bonus, their
# bases say which allocations it settles.
_BONUSES = """bonuses AS (
    SELECT bp.worker_id, sum(bp.amount) AS amount,
           left(string_agg(bp.basis, '; ' ORDER BY bp.year, bp.township_code), 300) AS basis
    FROM compensation.bonus_payouts bp WHERE bp.run_id = CAST(:run_id AS uuid)
    GROUP BY bp.worker_id
)"""

# Corrections of one earlier month for the named workers: what the month owes on today's data (a
# back-dated grade, certificate or leaving date) less what its payslip paid and what live runs already
# adjust for it. A worker who is owed nothing now (left earlier, back-dated) gets the whole payment back
# as a negative adjustment. The difference becomes an adjustment of this run; the month is never priced again.
RECOMPUTE_SQL = text(
    _with_params(NAMED)
    + ","
    + _PAY_GROSS
    + f"""
INSERT INTO compensation.payroll_adjustments (run_id, worker_id, month, amount)
SELECT CAST(:run_id AS uuid), n.worker_id, params.m_start,
       coalesce(g.base + g.allowance, 0)
       - coalesce((SELECT ps.base + ps.certificate_allowance FROM compensation.payslips ps
                   WHERE ps.worker_id = n.worker_id AND ps.month = params.m_start), 0)
       - coalesce((SELECT sum(a.amount) FROM compensation.payroll_adjustments a
                   JOIN compensation.payroll_runs r ON r.id = a.run_id
                   WHERE a.worker_id = n.worker_id AND a.month = params.m_start
                     AND r.status IN {LIVE} AND r.id <> CAST(:run_id AS uuid)), 0)
FROM unnest(CAST(:worker_ids AS uuid[])) AS n(worker_id)
CROSS JOIN params
LEFT JOIN gross g ON g.worker_id = n.worker_id
"""
)

# The earlier months to correct for this run: months of its workers (in scope, not paid this month by
# another run) that an approved or paid payslip settled, where the worker's data changed after that
# payslip was calculated. A margin covers writers whose transaction began before the calculation.
CORRECTIONS_DUE_SQL = text(
    """
WITH since AS (
    SELECT min(r.calculated_at) - interval '10 minutes' AS t FROM compensation.payroll_runs r
    WHERE r.status IN ('approved', 'paid') AND r.month >= CAST(:since_month AS date) AND r.month < CAST(:month AS date)
),
changed AS (
    SELECT w.worker_id FROM compensation.workers w, since
    WHERE w.community_path LIKE :prefix AND w.recorded_at > since.t
    UNION
    SELECT pp.worker_id FROM compensation.post_periods pp JOIN compensation.workers w USING (worker_id), since
    WHERE w.community_path LIKE :prefix AND pp.recorded_at > since.t
)
SELECT ps.month, array_agg(ps.worker_id ORDER BY ps.worker_id)
FROM changed c
JOIN compensation.payslips ps ON ps.worker_id = c.worker_id
JOIN compensation.payroll_runs r ON r.id = ps.run_id
WHERE r.status IN ('approved', 'paid') AND ps.month >= CAST(:since_month AS date) AND ps.month < CAST(:month AS date)
  AND NOT EXISTS (SELECT 1 FROM compensation.payslips other
                  WHERE other.worker_id = c.worker_id AND other.month = CAST(:month AS date)
                    AND other.run_id <> CAST(:run_id AS uuid))
  AND (EXISTS (SELECT 1 FROM compensation.workers w
               WHERE w.worker_id = c.worker_id AND w.recorded_at > r.calculated_at - interval '10 minutes')
       OR EXISTS (SELECT 1 FROM compensation.post_periods pp
                  WHERE pp.worker_id = c.worker_id AND pp.recorded_at > r.calculated_at - interval '10 minutes'))
GROUP BY ps.month
ORDER BY ps.month
"""
)


def _calculate_sql(only: str) -> str:
    return (
        _with_params(only)
        + ","
        + _PAY_GROSS
        + f""",
adjustments AS (
    SELECT a.worker_id, sum(a.amount) AS amount
    FROM compensation.payroll_adjustments a WHERE a.run_id = CAST(:run_id AS uuid)
    GROUP BY a.worker_id
),
{_BONUSES},
contributions AS (
    SELECT g.*, coalesce(adj.amount, 0) AS adjustment, coalesce(b.amount, 0) AS bonus, b.basis AS bonus_basis,
           g.base + g.allowance + coalesce(b.amount, 0) + coalesce(adj.amount, 0) AS gross_pay,
           least(greatest(g.base + g.allowance, g.base_min), g.base_max) AS cbase
    FROM gross g LEFT JOIN adjustments adj USING (worker_id) LEFT JOIN bonuses b USING (worker_id)
),
deductions AS (
    SELECT c.*,
           round(c.cbase * c.e_pension, 2) AS d_pension,
           round(c.cbase * c.e_medical, 2) AS d_medical,
           round(c.cbase * c.e_unemployment, 2) AS d_unemployment,
           round(c.cbase * c.e_housing_fund, 2) AS d_housing_fund
    FROM contributions c
),
ytd AS (
    SELECT ps.worker_id,
           sum(ps.base + ps.certificate_allowance + ps.bonus + ps.adjustment) AS gross,
           sum(ps.pension + ps.medical + ps.unemployment + ps.housing_fund) AS contributions,
           sum(ps.income_tax) AS tax
    FROM compensation.payslips ps
    WHERE ps.run_id IN (SELECT r.id FROM compensation.payroll_runs r, params
                        WHERE r.status IN ('approved', 'paid') AND r.month >= params.y_start AND r.month < params.m_start)
    GROUP BY ps.worker_id
),
taxable AS MATERIALIZED (  -- income computed once per worker: the tax table reads it a dozen times
    SELECT d.*, coalesce(y.tax, 0) AS ytd_tax,
           coalesce(y.gross, 0) + d.gross_pay - coalesce(y.contributions, 0)
             - (d.d_pension + d.d_medical + d.d_unemployment + d.d_housing_fund)
             - d.standard_deduction
               * (extract(month FROM params.m_start) - extract(month FROM greatest(d.hire_date, params.y_start)) + 1) AS income
    FROM deductions d CROSS JOIN params LEFT JOIN ytd y USING (worker_id)
)
INSERT INTO compensation.payslips (
    run_id, worker_id, month, basis, base, certificate_allowance, bonus, bonus_basis, adjustment, pension, medical,
    unemployment, housing_fund, income_tax, employer_pension, employer_medical, employer_unemployment,
    employer_injury, employer_housing_fund)
SELECT CAST(:run_id AS uuid), t.worker_id, params.m_start, t.basis, t.base, t.allowance, t.bonus, t.bonus_basis,
       t.adjustment, t.d_pension, t.d_medical, t.d_unemployment, t.d_housing_fund,
       greatest({sql_cumulative_tax("t.income")} - t.ytd_tax, 0),
       round(t.cbase * t.r_pension, 2), round(t.cbase * t.r_medical, 2), round(t.cbase * t.r_unemployment, 2),
       round(t.cbase * t.r_injury, 2), round(t.cbase * t.r_housing_fund, 2)
FROM taxable t CROSS JOIN params
"""
    )


# The whole run in one statement; the second form when another run may already hold some of its workers.
CALCULATE_SQL = text(_calculate_sql(EVERYONE))
CALCULATE_UNCOVERED_SQL = text(_calculate_sql(NOT_COVERED))

# Workers owed a correction or a bonus (C5) who are not employed in this month (they left): a payslip of
# those alone, with no contributions (no wage this month) and the tax they add to the year's cumulative income.
OWED_ONLY_SQL = text(
    f"""
WITH params AS (SELECT CAST(:m_start AS date) AS m_start, CAST(:y_start AS date) AS y_start),
{_BONUSES},
owed AS (
    SELECT coalesce(a.worker_id, b.worker_id) AS worker_id, coalesce(a.amount, 0) AS adjustment,
           coalesce(b.amount, 0) AS bonus, b.basis AS bonus_basis
    FROM (SELECT a.worker_id, sum(a.amount) AS amount FROM compensation.payroll_adjustments a
          WHERE a.run_id = CAST(:run_id AS uuid) GROUP BY a.worker_id) a
    FULL JOIN bonuses b ON b.worker_id = a.worker_id
    WHERE NOT EXISTS (SELECT 1 FROM compensation.payslips ps WHERE ps.worker_id = coalesce(a.worker_id, b.worker_id)
                      AND ps.month = (SELECT m_start FROM params))
),
ytd AS (
    SELECT ps.worker_id,
           sum(ps.base + ps.certificate_allowance + ps.bonus + ps.adjustment)
             - sum(ps.pension + ps.medical + ps.unemployment + ps.housing_fund) AS net_income,
           sum(ps.income_tax) AS tax, count(*) AS months
    FROM compensation.payslips ps JOIN compensation.payroll_runs r ON r.id = ps.run_id, params
    WHERE r.status IN ('approved', 'paid') AND ps.month >= params.y_start AND ps.month < params.m_start
      AND ps.worker_id IN (SELECT worker_id FROM owed)
    GROUP BY ps.worker_id
),
taxable AS (
    SELECT o.*, coalesce(y.tax, 0) AS ytd_tax,
           coalesce(y.net_income, 0) + o.adjustment + o.bonus
             - CAST(:standard_deduction AS numeric) * coalesce(y.months, 0) AS income
    FROM owed o LEFT JOIN ytd y USING (worker_id)
)
INSERT INTO compensation.payslips (
    run_id, worker_id, month, basis, base, certificate_allowance, bonus, bonus_basis, adjustment, pension, medical,
    unemployment, housing_fund, income_tax, employer_pension, employer_medical, employer_unemployment,
    employer_injury, employer_housing_fund)
SELECT CAST(:run_id AS uuid), t.worker_id, params.m_start,
       CASE WHEN t.bonus = 0 THEN '补发/扣回 correction only'
            WHEN t.adjustment = 0 THEN '绩效奖金 bonus only (C5)'
            ELSE '补发/扣回与绩效奖金 correction and bonus only (C5)' END,
       0, 0, t.bonus, t.bonus_basis, t.adjustment, 0, 0, 0, 0,
       greatest({sql_cumulative_tax("t.income")} - t.ytd_tax, 0), 0, 0, 0, 0, 0
FROM taxable t CROSS JOIN params
"""
)


def month_bounds(month: date) -> tuple[date, date, int]:
    days = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=days), days


def county_policy(county: str, policy: PayPolicy) -> dict[str, Any]:
    """One county's parameters, as a row of the statement's ``county_policy`` table."""
    e, r, allowances = policy.employee_rates, policy.employer_rates, policy.certificate_allowances
    zero = Decimal(0)
    values: dict[str, Any] = {
        "county": county,
        "base_share": policy.base_share,
        "joining_full": policy.joining_month == "full",
        "allow_senior": allowances.get("senior", zero),
        "allow_social_worker": allowances.get("social_worker", zero),
        "allow_assistant": allowances.get("assistant", zero),
        "base_min": policy.contribution_base_min,
        "base_max": policy.contribution_base_max,
        "e_pension": e.get("pension", zero),
        "e_medical": e.get("medical", zero),
        "e_unemployment": e.get("unemployment", zero),
        "e_housing_fund": e.get("housing_fund", zero),
        "r_pension": r.get("pension", zero),
        "r_medical": r.get("medical", zero),
        "r_unemployment": r.get("unemployment", zero),
        "r_injury": r.get("injury", zero),
        "r_housing_fund": r.get("housing_fund", zero),
        "standard_deduction": policy.monthly_standard_deduction,
    }
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def month_parameters(month: date, policies: dict[str, PayPolicy], prefix: str) -> dict[str, Any]:
    m_start, m_end, days = month_bounds(month)
    return {
        "prefix": prefix,
        "m_start": m_start,
        "m_end": m_end,
        "y_start": m_start.replace(month=1),
        "days": days,
        "year": m_start.year,
        "county_policies": json.dumps([county_policy(c, p) for c, p in policies.items()]),
    }


def sql_parameters(run: PayrollRun, policies: dict[str, PayPolicy]) -> dict[str, Any]:
    return month_parameters(run.month, policies, scope_prefix(run.region_code) + "%") | {"run_id": str(run.id)}


async def missing_scale_cells(
    session: AsyncSession, run: PayrollRun, policies: dict[str, PayPolicy]
) -> list[tuple[str, str, int]]:
    """(county, post, grade) held in the month for which the county's scale has no amount (C4)."""
    rows = await session.execute(MISSING_CELLS_SQL, sql_parameters(run, policies))
    return [(county, post, grade) for county, post, grade in rows.all()]


def _calculate_statement(uncovered: bool) -> Any:
    return CALCULATE_UNCOVERED_SQL if uncovered else CALCULATE_SQL


@decides("C6", "C8", "C9")
async def calculate_lines(
    session: AsyncSession | AsyncConnection, run: PayrollRun, policies: dict[str, PayPolicy], *, uncovered: bool
) -> None:
    """Every line of every worker of the run, in one statement; each county with its own policy.
    ``uncovered``: leave out workers whose month another run already holds (paid once)."""
    await session.execute(_calculate_statement(uncovered), sql_parameters(run, policies))


async def owed_only_lines(session: AsyncSession, run: PayrollRun, policies: dict[str, PayPolicy]) -> None:
    """Payslips of the correction or bonus alone for workers owed one who are not employed this month (left)."""
    m_start, _, _ = month_bounds(run.month)
    deduction = next(iter(policies.values())).monthly_standard_deduction if policies else Decimal(5000)
    await session.execute(
        OWED_ONLY_SQL,
        {
            "run_id": str(run.id),
            "m_start": m_start,
            "y_start": m_start.replace(month=1),
            "standard_deduction": deduction,
        },
    )


# A run's lines: what a recalculation, a cancellation, a reversal or a failure removes (live runs only have any).
LINE_TABLES = (Payslip, PayrollAdjustment, BonusPayout)


async def delete_lines(db: AsyncSession | AsyncConnection, run_ids: list[uuid.UUID]) -> None:
    for table in LINE_TABLES:
        await db.execute(delete(table).where(table.run_id.in_(run_ids)))


async def clear_lines(session: AsyncSession, run: PayrollRun) -> None:
    await delete_lines(session, [run.id])


CORRECTION_MONTHS = 24  # how far back a back-dated change is corrected


def months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


PolicyLoader = Callable[[str, int], Awaitable[PayPolicy]]


async def compute_adjustments(
    session: AsyncSession, run: PayrollRun, counties: list[str], load_policy: PolicyLoader
) -> None:
    """Corrections of months already settled (corrections are paid once): for each worker of this run
    whose data changed after an approved month was calculated, what that month owes on today's data less
    what its payslip paid and what live runs already adjust for it. The month is never priced again:
    only the difference is paid, as an adjustment line of this run."""
    prefix = scope_prefix(run.region_code) + "%"
    since_month = months_back(run.month, CORRECTION_MONTHS)
    settled = await session.scalar(
        select(func.count())
        .select_from(PayrollRun)
        .where(
            PayrollRun.status.in_(("approved", "paid")),
            PayrollRun.month >= since_month,
            PayrollRun.month < run.month,
        )
    )
    if not settled:  # nothing settled to correct: no scan of the projection (a month's first province run)
        return
    due = await session.execute(
        CORRECTIONS_DUE_SQL,
        {
            "prefix": prefix,
            "month": run.month,
            "since_month": since_month,
            "run_id": str(run.id),
        },
    )
    for month, worker_ids in due.all():
        policies = {county: await load_policy(county, month.year) for county in counties}
        params = month_parameters(month, policies, prefix) | {
            "run_id": str(run.id),
            "worker_ids": [str(w) for w in worker_ids],
        }
        await session.execute(RECOMPUTE_SQL, params)
    await session.execute(
        delete(PayrollAdjustment).where(PayrollAdjustment.run_id == run.id, PayrollAdjustment.amount == 0)
    )


GROSS = Payslip.base + Payslip.certificate_allowance + Payslip.bonus + Payslip.adjustment
WORKER_DEDUCTIONS_SUM = (
    Payslip.pension + Payslip.medical + Payslip.unemployment + Payslip.housing_fund + Payslip.income_tax
)
EMPLOYER_SUM = (
    Payslip.employer_pension
    + Payslip.employer_medical
    + Payslip.employer_unemployment
    + Payslip.employer_injury
    + Payslip.employer_housing_fund
)


async def update_totals(session: AsyncSession, run: PayrollRun) -> None:
    """The run's totals are the sums of its payslips' cent amounts: they reconcile exactly."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(GROSS), 0),
                func.coalesce(func.sum(GROSS - WORKER_DEDUCTIONS_SUM), 0),
                func.coalesce(func.sum(EMPLOYER_SUM), 0),
            ).where(Payslip.run_id == run.id)
        )
    ).one()
    run.workers, run.gross_total, run.net_total, run.employer_total = int(row[0]), row[1], row[2], row[3]
    run.calculated_at = datetime.now(UTC)


async def workers_per_county(session: AsyncSession, run: PayrollRun) -> dict[str, int]:
    rows = await session.execute(
        text(
            "SELECT left(community_path, 6), count(*) FROM compensation.workers WHERE community_path LIKE :prefix GROUP BY 1"
        ),
        {"prefix": scope_prefix(run.region_code) + "%"},
    )
    return {county: int(n) for county, n in rows.all()}


def balanced_partitions(sizes: dict[str, int], partitions: int) -> list[list[str]]:
    """Counties into ``partitions`` groups of about equal worker counts (largest first, to the lightest)."""
    groups: list[list[str]] = [[] for _ in range(partitions)]
    loads = [0] * partitions
    for county, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        lightest = loads.index(min(loads))
        groups[lightest].append(county)
        loads[lightest] += size
    return [g for g in groups if g]


async def calculate_in_partitions(
    engine: AsyncEngine, run: PayrollRun, policies: dict[str, PayPolicy], groups: list[list[str]], *, uncovered: bool
) -> None:
    """A large run's counties in balanced groups, each group's INSERT on its own connection, all at once.

    ``INSERT … SELECT`` cannot use parallel query, so on a machine with several cores the run is split
    by county. Each group commits on its own: the run stays ``calculating`` under a lease until every
    group is in, nothing reads its payslips meanwhile, and a failure anywhere (or a lease that runs out
    because the process died) ends it ``failed`` with every line removed (see ``payroll_runs``).
    """

    async def one(counties: list[str]) -> None:
        async with engine.begin() as conn:
            await conn.execute(_calculate_statement(uncovered), sql_parameters(run, {c: policies[c] for c in counties}))

    # A task group: when one group fails the others are cancelled (rolled back), none goes on writing.
    async with asyncio.TaskGroup() as tasks:
        for group in groups:
            tasks.create_task(one(group))
