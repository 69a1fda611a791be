"""Payroll runs in ``/metrics`` (shared.metrics): how long calculations take and how large they are, and
what the runs are doing now, so a run stuck in ``calculating`` raises an alert (deploy/monitoring).

- ``shegong_payroll_calculation_seconds{mode}`` and ``shegong_payroll_calculation_workers{mode}``: each
  finished calculation (``mode`` ``single`` or ``partitioned``, docs/payroll.md), observed by the replica
  that ran it;
- ``shegong_payroll_runs{status}``: runs by status, read at scrape time;
- ``shegong_payroll_calculating_seconds``: how long the oldest run still ``calculating`` has been at it
  (0 when none); its lease reaper fails it once the lease runs out, so this passing the lease means the
  reaper is not running.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import PayrollRun
from services.compensation.schemas import PayrollRunStatus as RunStatus

CALCULATION_SECONDS = Histogram(
    "shegong_payroll_calculation_seconds",
    "Time to calculate a payroll run, from its start to its lines and totals",
    ["mode"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)
CALCULATION_WORKERS = Histogram(
    "shegong_payroll_calculation_workers",
    "Workers paid by a calculated payroll run",
    ["mode"],
    buckets=(10, 100, 1_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000),
)


def observe_calculation(run: PayrollRun, *, partitioned: bool) -> None:
    """Called as a calculation finishes (``run.calculated_at`` is when it started)."""
    mode = "partitioned" if partitioned else "single"
    if run.calculated_at is not None:
        CALCULATION_SECONDS.labels(mode).observe((datetime.now(UTC) - run.calculated_at).total_seconds())
    CALCULATION_WORKERS.labels(mode).observe(run.workers or 0)


async def payroll_run_metrics(app: FastAPI, session: AsyncSession) -> Iterable[Metric]:
    runs = GaugeMetricFamily("shegong_payroll_runs", "Payroll runs by status", labels=["service", "status"])
    counts = dict((await session.execute(select(PayrollRun.status, func.count()).group_by(PayrollRun.status))).all())
    for status in RunStatus:
        runs.add_metric(["compensation", status.value], counts.get(status.value, 0))
    oldest = await session.scalar(
        select(func.min(PayrollRun.calculated_at)).where(PayrollRun.status == RunStatus.calculating)
    )
    calculating = GaugeMetricFamily(
        "shegong_payroll_calculating_seconds",
        "How long the oldest run still calculating has been at it (0 when none)",
        labels=["service"],
    )
    calculating.add_metric(["compensation"], (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
    return [runs, calculating]
