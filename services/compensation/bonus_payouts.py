"""Paying the C5 performance bonus on payslips, once.

A township's allocation (``bonus.py``) says each worker's share of the year's pool; a payroll run pays it.
At each calculation, for every worker of the run's region whose month no other run holds, and every
township and year of the region with a live allocation (this year or the ``BONUS_YEARS`` before it)::

    due = the live allocation's share for the worker (0 if it has none)
          − what other live runs (calculating, calculated, approved, paid) pay of that bonus

and a payout of ``due`` is written for this run when it is not zero (``bonus_payouts``). The payslip's
``bonus`` is the sum of its run's payouts, ``bonus_basis`` says which allocations they settle and why.

**Paid once.** Every allocation row of the region's townships and years is locked (``FOR UPDATE``, in id
order, the reversed ones too: rows are never deleted) before the dues are read, and a calculation keeps the
locks until it commits its payouts, so two calculations never both pay one due: the second reads what the
first wrote, and a replacement committed while it waited is the allocation it reads. Payouts exist only for
live runs: they go with the run's lines when it is recalculated, cancelled, reversed or fails, and the next
calculation that reaches the worker pays what is then due. Two rules keep the payouts a stack, where only
the last of a worker's bonus can go:

- at most one run not yet approved holds a worker's bonus of a township and year: while one does, later
  runs leave it alone (its due waits), so a cancellation never takes away a payout another one counted on;
- a reversal is refused while a later run holds a payout of the same bonus (``DEPENDENT_SQL``, by
  ``computed_at``), as it is for corrections.

So what live runs pay of a worker's bonus is always 0 or a share the worker was once allocated, and after a
run that reaches the worker, exactly the live share:

- a replacement that raises a share already paid pays the difference; one that lowers it takes the
  difference back as a negative bonus (money paid out is not taken back by a state change);
- a run reversed or cancelled gives its payouts back to the next run;
- a worker who left and is owed a share gets a payslip of the bonus alone (``payroll.OWED_ONLY_SQL``).

A run pays allocations of townships in its own region to workers in its own region: a worker who moved to
another county after the allocation is paid by a run that covers both (the city's).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import BonusAllocation, BonusPayout, PayrollRun
from services.compensation.payroll import month_bounds
from services.compensation.schemas import LIVE_RUNS, BonusPayoutOut, PayrollRunStatus
from shared.read_models import from_row
from shared.regions import scope_prefix

BONUS_YEARS = 2  # a run pays allocations of its own year and the two before it (as corrections go 24 months back)

# Every due of the locked townships' and years' live allocations (read now: a replacement committed while this
# calculation waited for its locks is the live one), for the workers of the region whose month no other run
# holds, but not where another run not yet approved holds a payout of the same bonus: at most one unapproved run
# holds a worker's bonus of a township and year, so a cancelled run never took with it a payout another run
# counted on (its due waits for that run: it pays, or, cancelled, leaves the due to the next run).
DUE_SQL = text(
    """
WITH live AS (
    SELECT a.id AS allocation_id, a.township_code, a.year, a.shares
    FROM compensation.bonus_allocations a
    WHERE a.reversed_at IS NULL
      AND (a.township_code, a.year) IN (SELECT township_code, year FROM compensation.bonus_allocations
                                        WHERE id = ANY(CAST(:locked AS uuid[])))
),
shares AS (
    SELECT l.allocation_id, l.township_code, l.year, s.worker_id, s.share
    FROM live l CROSS JOIN LATERAL jsonb_to_recordset(l.shares) AS s(worker_id uuid, share numeric)
),
paid AS (
    SELECT bp.worker_id, bp.township_code, bp.year, sum(bp.amount) AS amount,
           bool_or(r.status = ANY(CAST(:unapproved AS text[]))) AS pending
    FROM compensation.bonus_payouts bp
    JOIN live l ON l.township_code = bp.township_code AND l.year = bp.year
    JOIN compensation.payroll_runs r ON r.id = bp.run_id
    WHERE r.status = ANY(CAST(:live AS text[])) AND bp.run_id <> CAST(:run_id AS uuid)
    GROUP BY bp.worker_id, bp.township_code, bp.year
),
due AS (
    SELECT coalesce(s.worker_id, p.worker_id) AS worker_id, l.township_code, l.year, l.allocation_id,
           coalesce(s.share, 0) AS share, coalesce(p.amount, 0) AS paid
    FROM shares s
    FULL JOIN paid p ON p.worker_id = s.worker_id AND p.township_code = s.township_code AND p.year = s.year
    JOIN live l ON l.township_code = coalesce(s.township_code, p.township_code) AND l.year = coalesce(s.year, p.year)
    WHERE NOT coalesce(p.pending, false)
)
INSERT INTO compensation.bonus_payouts (run_id, worker_id, township_code, year, allocation_id, amount, basis)
SELECT CAST(:run_id AS uuid), d.worker_id, d.township_code, d.year, d.allocation_id, d.share - d.paid,
       format('C5 %s %s 分配 %s：份额 share %s − 已发 paid %s', d.year, d.township_code, d.allocation_id,
              CAST(d.share AS numeric(12, 2)), CAST(d.paid AS numeric(12, 2)))
FROM due d
JOIN compensation.workers w ON w.worker_id = d.worker_id
WHERE d.share <> d.paid AND w.community_path LIKE :prefix
  AND NOT EXISTS (SELECT 1 FROM compensation.payslips ps
                  WHERE ps.worker_id = d.worker_id AND ps.month = CAST(:m_start AS date)
                    AND ps.run_id <> CAST(:run_id AS uuid))
"""
)

# Other live runs holding a payout of a worker's bonus computed after this run's payout of the same bonus: it
# counted this run's, so this run's cannot go first (a reversal is refused while they hold it).
DEPENDENT_SQL = text(
    """
SELECT later.run_id, count(*) FROM compensation.bonus_payouts later
JOIN compensation.bonus_payouts mine
  ON mine.run_id = CAST(:run_id AS uuid) AND mine.worker_id = later.worker_id
 AND mine.township_code = later.township_code AND mine.year = later.year AND later.computed_at > mine.computed_at
JOIN compensation.payroll_runs r ON r.id = later.run_id
WHERE later.run_id <> CAST(:run_id AS uuid) AND r.status = ANY(CAST(:live AS text[]))
GROUP BY later.run_id
"""
)

# Payouts whose worker got no payslip of this run: another run took the worker's month meanwhile (it was
# calculating when this one began). Their due stays for a later run.
UNSLIPPED_SQL = text(
    """
DELETE FROM compensation.bonus_payouts bp
WHERE bp.run_id = CAST(:run_id AS uuid)
  AND NOT EXISTS (SELECT 1 FROM compensation.payslips ps
                  WHERE ps.run_id = bp.run_id AND ps.worker_id = bp.worker_id)
"""
)


UNAPPROVED_RUNS = (PayrollRunStatus.calculating, PayrollRunStatus.calculated)


async def compute_payouts(session: AsyncSession, run: PayrollRun) -> None:
    """This run's payouts of the C5 bonus: each live allocation's share less what other live runs pay of it,
    under a lock on the region's allocations (see the module doc).

    Every allocation row of the region's townships and years is locked, the reversed ones too: rows are never
    deleted, so two calculations reaching the same township and year always meet on a row they both lock,
    even when a replacement adds the live one meanwhile."""
    prefix = scope_prefix(run.region_code)
    locked = list(
        (
            await session.scalars(
                select(BonusAllocation.id)
                .where(
                    BonusAllocation.township_code.like(prefix + "%"),
                    BonusAllocation.year.between(run.month.year - BONUS_YEARS, run.month.year),
                )
                .order_by(BonusAllocation.id)
                .with_for_update()
            )
        ).all()
    )
    if not locked:
        return
    m_start, _, _ = month_bounds(run.month)
    await session.execute(
        DUE_SQL,
        {
            "locked": [str(a) for a in locked],
            "run_id": str(run.id),
            "prefix": prefix + "%",
            "m_start": m_start,
            "live": [s.value for s in LIVE_RUNS],
            "unapproved": [s.value for s in UNAPPROVED_RUNS],
        },
    )


async def dependent_runs(session: AsyncSession, run_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Live runs whose bonus payouts counted this run's (run → how many): see ``DEPENDENT_SQL``."""
    rows = await session.execute(DEPENDENT_SQL, {"run_id": str(run_id), "live": [s.value for s in LIVE_RUNS]})
    return {uuid.UUID(str(run)): int(n) for run, n in rows.all()}


async def drop_unslipped(session: AsyncSession, run: PayrollRun) -> None:
    """Remove payouts of workers this run has no payslip for (see ``UNSLIPPED_SQL``)."""
    await session.execute(UNSLIPPED_SQL, {"run_id": str(run.id)})


async def of_allocation(session: AsyncSession, allocation: BonusAllocation) -> list[BonusPayoutOut]:
    """Every payout of the allocation's township and year in live runs (earlier allocations' too), by month
    and worker: what the ledger's shares became on payslips (C5)."""
    rows = await session.execute(
        select(BonusPayout, PayrollRun.month, PayrollRun.status)
        .join(PayrollRun, PayrollRun.id == BonusPayout.run_id)
        .where(
            BonusPayout.township_code == allocation.township_code,
            BonusPayout.year == allocation.year,
            PayrollRun.status.in_(LIVE_RUNS),
        )
        .order_by(PayrollRun.month, BonusPayout.worker_id, BonusPayout.run_id)
    )
    return [
        from_row(BonusPayoutOut, payout, month=month.strftime("%Y-%m"), run_status=status)
        for payout, month, status in rows.all()
    ]
