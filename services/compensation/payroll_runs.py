"""Payroll run use cases: calculating a run all or nothing, once per worker-month, and noticing runs whose
calculating process died.

**Paid once.** A worker-month is paid by at most one payslip, whatever the level of the run (township,
county, city): the database holds it (a unique index on ``payslips (worker_id, month)``; payslips exist
only for live runs). The first run *calculated* holds the month of each of its workers. A later run whose
scope overlaps it is refused (``overlap=refuse``, the default: 409 naming every run that holds some of its
workers, or that is still unfinished in an overlapping region) or leaves those workers out
(``overlap=exclude``: the run's ``excluded`` lists the runs and how many workers each holds).

**All or nothing.** A small run is one transaction. A large run (split by county over several
connections) is first committed as ``calculating`` with a lease that a heartbeat renews; each group of
counties commits on its own. It ends ``calculated`` only when every group is in; any failure ends it
``failed`` with every line removed, and a run whose process died is found by its expired lease and failed
the same way by ``reap_expired_runs`` (every ``payroll_reaper_seconds``, on every replica). A failed run
can be calculated again.

**Reversal.** An approved run not yet paid can be reversed (``reverse``): its lines go, like a cancelled
run's, and its workers' month is free for a new run. It is refused while another live run holds a
correction computed against one of its payslips (that correction would be paid on top of the new run's
full month), and for a paid run: money paid out is not taken back by a state change (a clawback is a
negative correction in a later run, ``compute_adjustments``). A reversal holds an EXCLUSIVE lock on
``payroll_runs`` for its short transaction, so no calculation (which locks its run row FOR UPDATE for the
whole of its transaction) computes corrections against the run meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.compensation import bonus_payouts
from services.compensation.models import PayrollRun, events
from services.compensation.payroll import (
    balanced_partitions,
    calculate_in_partitions,
    calculate_lines,
    clear_lines,
    compute_adjustments,
    delete_lines,
    missing_scale_cells,
    owed_only_lines,
    update_totals,
    workers_per_county,
)
from services.compensation.payroll_metrics import observe_calculation
from services.compensation.policies import policies_for, policy_for
from services.compensation.schemas import LIVE_RUNS
from services.compensation.schemas import PayrollRunStatus as RunStatus
from services.compensation.settings import Settings
from shared.contracts import PayrollRunReversed
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, Forbidden, ServiceUnavailable, UnprocessableContent
from shared.regions import contains, scope_prefix
from shared.scoping import RegionScoped
from shared.writes import inserted

_log = logging.getLogger("shegong.payroll")


# Not approved: a run that may be calculated again or cancelled.
NOT_APPROVED = (RunStatus.draft, RunStatus.calculated, RunStatus.failed)


class Overlap(StrEnum):
    """重叠处理 what a run does with workers another run of the month already holds."""

    refuse = "refuse"
    exclude = "exclude"


@dataclass(frozen=True)
class Holder:
    """Another run of the same month that holds some of this run's workers, or may."""

    run_id: uuid.UUID
    region_code: str
    status: str
    workers: int | None  # None: unfinished (draft) in an overlapping region, it holds nobody yet

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"run_id": str(self.run_id)}

    def describe(self) -> str:
        held = f"{self.workers}" if self.workers is not None else "-"
        return f"{self.run_id} ({self.region_code}, {self.status}, {held})"


HELD_SQL = text(
    """
SELECT ps.run_id, count(*) FROM compensation.payslips ps
JOIN compensation.workers w ON w.worker_id = ps.worker_id
WHERE ps.run_id = ANY(CAST(:runs AS uuid[])) AND w.community_path LIKE :prefix
GROUP BY ps.run_id
"""
)


async def other_runs(session: AsyncSession, run: PayrollRun) -> list[PayrollRun]:
    """The month's other runs that are not failed or cancelled."""
    rows = await session.scalars(
        select(PayrollRun)
        .where(
            PayrollRun.month == run.month,
            PayrollRun.id != run.id,
            PayrollRun.status.in_([*LIVE_RUNS, RunStatus.draft]),
        )
        .order_by(PayrollRun.region_code, PayrollRun.id)
    )
    return list(rows.all())


async def holders(session: AsyncSession, run: PayrollRun, others: list[PayrollRun]) -> list[Holder]:
    """Runs whose payslips hold workers of this run's scope this month; and unfinished runs (draft,
    calculating) whose region overlaps this run's, which will hold them once calculated."""
    live = [o for o in others if o.status in LIVE_RUNS]
    counts: dict[uuid.UUID, int] = {}
    if live:
        rows = await session.execute(
            HELD_SQL, {"runs": [str(o.id) for o in live], "prefix": scope_prefix(run.region_code) + "%"}
        )
        counts = {uuid.UUID(str(run_id)): int(n) for run_id, n in rows.all()}
    found: list[Holder] = []
    for other in others:
        overlapping = contains(other.region_code, run.region_code) or contains(run.region_code, other.region_code)
        if other.id in counts:
            found.append(Holder(other.id, other.region_code, other.status, counts[other.id]))
        elif overlapping and other.status in (RunStatus.draft, RunStatus.calculating):
            found.append(Holder(other.id, other.region_code, other.status, None))
    return found


def overlap_conflict(run: PayrollRun, found: list[Holder]) -> Conflict:
    problem = Conflict(
        Message(
            "{month} 已有其他工资核算批次覆盖本批次的社工（每人每月只发一次）：{runs}。"
            "请撤销或完成该批次，或选择“剔除”这些社工后核算（overlap=exclude）",
            "Other runs of {month} already cover workers of this run (a worker-month is paid once): {runs}. "
            "Cancel or finish them, or calculate with overlap=exclude to leave those workers out",
        ),
        month=run.month.strftime("%Y-%m"),
        runs="; ".join(h.describe() for h in found),
    )
    problem.extra["covering_runs"] = [h.as_json() for h in found]
    return problem


class Policies:
    """The policy in force per (county, year), each read once per calculation (corrections of earlier
    months ask for the same counties again)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._known: dict[tuple[str, int], Any] = {}

    async def many(self, counties: list[str], year: int) -> dict[str, Any]:
        """The policies of many counties, the unknown ones read in one query."""
        unknown = [c for c in counties if (c, year) not in self._known]
        if unknown:
            for county, policy in (await policies_for(self.session, unknown, year)).items():
                self._known[(county, year)] = policy
        return {county: self._known[(county, year)] for county in counties}

    async def __call__(self, county: str, year: int) -> Any:
        if (county, year) not in self._known:
            self._known[(county, year)] = await policy_for(self.session, county, year)
        return self._known[(county, year)]


async def calculate(
    session: AsyncSession, engine: AsyncEngine, settings: Settings, run: PayrollRun, overlap: Overlap, by: str
) -> PayrollRun:
    """Calculate (or recalculate) a locked run: every line, set-based, once per worker-month; ``by`` asked for
    it (and may not approve it: :func:`advance`)."""
    if run.status not in NOT_APPROVED:
        raise Conflict(
            Message("状态为 {status}，不能核算", "The run is {status}: it cannot be calculated"), status=run.status
        )
    others = await other_runs(session, run)
    found = await holders(session, run, others)
    if overlap == Overlap.refuse and found:
        raise overlap_conflict(run, found)
    await clear_lines(session, run)
    sizes = await workers_per_county(session, run)
    counties = sorted(sizes)
    load_policy = Policies(session)
    policies = await load_policy.many(counties, run.month.year)
    missing = await missing_scale_cells(session, run, policies)
    if missing:
        cells = ", ".join(f"{county} {post} {grade}" for county, post, grade in missing[:10])
        raise UnprocessableContent(
            Message("{year} 年薪酬表缺少：{cells}", "The {year} scales lack: {cells}"),
            rule="C4",
            year=run.month.year,
            cells=cells,
        )
    # Leave out worker-months already held when some are, or when another run is writing its lines now.
    held = [h for h in found if h.workers]
    uncovered = bool(held) or any(o.status == RunStatus.calculating for o in others)
    run.excluded = [h.as_json() for h in held] or None
    run.failure = None
    run.calculated_at = datetime.now(UTC)  # the data the lines are computed from (corrections compare to it)
    run.calculated_by = by

    large = (
        sum(sizes.values()) >= settings.payroll_parallel_threshold
        and settings.payroll_partitions > 1
        and len(sizes) > 1
    )
    try:
        await compute_adjustments(session, run, counties, load_policy)
        await bonus_payouts.compute_payouts(session, run)
        if not large:
            await calculate_lines(session, run, policies, uncovered=uncovered)
            return await _finish(session, run, policies, partitioned=False, uncovered=uncovered)
    except IntegrityError as exc:
        raise await _raced(session, run) from exc
    return await _calculate_large(session, engine, settings, run, policies, sizes, uncovered=uncovered)


async def _finish(
    session: AsyncSession, run: PayrollRun, policies: dict[str, Any], *, partitioned: bool, uncovered: bool
) -> PayrollRun:
    await owed_only_lines(session, run, policies)
    if uncovered:  # only then can another run have taken a month this run computed a bonus payout for
        await bonus_payouts.drop_unslipped(session, run)
    await update_totals(session, run)
    observe_calculation(run, partitioned=partitioned)
    run.status = RunStatus.calculated
    run.lease_until = None
    run.version += 1
    return run


async def _raced(session: AsyncSession, run: PayrollRun) -> Conflict:
    """Another run took some of these workers' month while this one was calculating (a race the unique
    index decided): nothing of this calculation stays."""
    run_id = run.id
    await session.rollback()
    fresh = await session.get(PayrollRun, run_id)
    assert fresh is not None
    return overlap_conflict(fresh, await holders(session, fresh, await other_runs(session, fresh)))


async def _calculate_large(
    session: AsyncSession,
    engine: AsyncEngine,
    settings: Settings,
    run: PayrollRun,
    policies: dict[str, Any],
    sizes: dict[str, int],
    *,
    uncovered: bool,
) -> PayrollRun:
    lease = timedelta(seconds=settings.payroll_lease_seconds)
    run.status = RunStatus.calculating
    run.lease_until = datetime.now(UTC) + lease
    run.version += 1
    await session.commit()  # the groups' connections must see the run; its state keeps readers out
    groups = balanced_partitions(sizes, settings.payroll_partitions)
    try:
        async with _heartbeat(engine, run.id, settings.payroll_lease_seconds):
            await calculate_in_partitions(engine, run, policies, groups, uncovered=uncovered)
    except BaseException as caught:
        exc = _first_cause(caught)
        await session.rollback()
        reason = "another run holds some of these workers' month" if isinstance(exc, IntegrityError) else repr(exc)
        try:
            await fail_run(engine, run.id, reason[:480])
        except (DBAPIError, OSError):  # the database is gone too: the expired lease fails the run later
            _log.exception("could not mark the run failed", extra={"run": str(run.id)})
        if isinstance(exc, IntegrityError):
            fresh = await session.get(PayrollRun, run.id, populate_existing=True)
            assert fresh is not None
            raise overlap_conflict(fresh, await holders(session, fresh, await other_runs(session, fresh))) from exc
        if isinstance(exc, Exception):  # a database that went away, a connection terminated …
            _log.error("payroll calculation failed", exc_info=exc, extra={"run": str(run.id)})
            raise ServiceUnavailable(
                Message(
                    "核算失败，已全部撤回（状态 failed），可重新核算：{run}",
                    "The calculation failed and was rolled back whole (status failed); calculate again: {run}",
                ),
                run=str(run.id),
            ) from exc
        raise
    locked = await session.scalar(
        select(PayrollRun).where(PayrollRun.id == run.id).with_for_update().execution_options(populate_existing=True)
    )
    assert locked is not None
    if locked.status != RunStatus.calculating:  # failed meanwhile: its lease ran out
        await clear_lines(session, locked)
        await session.commit()
        raise Conflict(
            Message(
                "核算超时已被标记为失败，请重新核算",
                "The calculation outlived its lease and was failed: calculate again",
            )
        )
    return await _finish(session, locked, policies, partitioned=True, uncovered=uncovered)


def _first_cause(exc: BaseException) -> BaseException:
    """The first real error inside the task group's exception group."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


@contextlib.asynccontextmanager
async def _heartbeat(engine: AsyncEngine, run_id: uuid.UUID, lease_seconds: float) -> AsyncIterator[None]:
    """Renew the run's lease every third of it while the calculation runs."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(lease_seconds / 3)
            async with engine.begin() as conn:
                await conn.execute(
                    update(PayrollRun)
                    .where(PayrollRun.id == run_id, PayrollRun.status == RunStatus.calculating)
                    .values(lease_until=datetime.now(UTC) + timedelta(seconds=lease_seconds))
                )

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def fail_run(engine: AsyncEngine, run_id: uuid.UUID, reason: str) -> None:
    """End a calculating run ``failed`` with none of its lines."""
    async with engine.begin() as conn:
        await conn.execute(
            update(PayrollRun)
            .where(PayrollRun.id == run_id, PayrollRun.status == RunStatus.calculating)
            .values(status=RunStatus.failed, failure=reason, lease_until=None, version=PayrollRun.version + 1)
        )
        await delete_lines(conn, [run_id])


async def reap_expired_runs(engine: AsyncEngine) -> list[uuid.UUID]:
    """Runs left ``calculating`` by a process that died (its lease ran out): ``failed``, lines removed."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            text(
                """
UPDATE compensation.payroll_runs SET status = 'failed', lease_until = NULL, version = version + 1,
       failure = 'the calculating process stopped (lease expired) 核算进程中断'
WHERE id IN (SELECT id FROM compensation.payroll_runs
             WHERE status = 'calculating' AND lease_until < now() FOR UPDATE SKIP LOCKED)
RETURNING id"""
            )
        )
        ids = [uuid.UUID(str(r[0])) for r in rows.all()]
        if ids:
            await delete_lines(conn, ids)
            _log.warning("payroll runs failed after their lease expired", extra={"runs": [str(i) for i in ids]})
    return ids


async def reap_forever(engine: AsyncEngine, interval: float) -> None:
    while True:
        try:
            await reap_expired_runs(engine)
        except (DBAPIError, OSError):
            _log.exception("could not check payroll leases")
        await asyncio.sleep(interval)


async def create(session: AsyncSession, region_code: str, month: str, by: str) -> PayrollRun:
    """A draft run for a region (township, county or city) and month (``YYYY-MM``)."""
    run = PayrollRun(region_code=region_code, month=date.fromisoformat(month + "-01"), status="draft", created_by=by)
    await inserted(session, run)
    await record_event(
        session, events, "payroll_run.created", f"payroll-run/{run.id}", {"region_code": region_code, "month": month}
    )
    return run


# The hand-driven steps of a run: calculated → approved → paid.
ADVANCES = {RunStatus.approved: RunStatus.calculated, RunStatus.paid: RunStatus.approved}


SAME_PERSON = Message(
    "本批次由您核算，须由另一位有权限的人员审批（不相容职务分离）",
    "You calculated this run: another person with the right approves it (separation of duties)",
)


async def advance(
    session: AsyncSession, run: PayrollRun, target: RunStatus, by: str, *, separate_approval: bool = True
) -> PayrollRun:
    """Approve a calculated run or mark an approved run paid (who and when are kept); ``run`` is locked. With
    ``separate_approval`` the person who asked for the last calculation does not approve it (403)."""
    if run.status != ADVANCES[target]:
        raise Conflict(
            Message("状态为 {status}，不能执行此操作", "The run is {status}: not possible now"), status=run.status
        )
    if target == RunStatus.approved and separate_approval and run.calculated_by == by:
        raise Forbidden(SAME_PERSON, rule="AC5")  # docs/security.md: separation of duties
    run.status = target
    run.version += 1
    now = datetime.now(UTC)
    if target == RunStatus.approved:
        run.approved_by, run.approved_at = by, now
    else:
        run.paid_at = now
    await session.flush()
    await record_event(
        session,
        events,
        f"payroll_run.{target.value}",
        f"payroll-run/{run.id}",
        {
            "region_code": run.region_code,
            "month": run.month.strftime("%Y-%m"),
            "gross_total": str(run.gross_total),
            "by": by,
        },
    )
    return run


async def cancel(session: AsyncSession, run: PayrollRun, by: str) -> PayrollRun:
    """Cancel a run that was not approved: its lines go, its workers' months are free again."""
    if run.status not in NOT_APPROVED:
        raise Conflict(
            Message("状态为 {status}，不能撤销", "The run is {status}: it cannot be cancelled"), status=run.status
        )
    await clear_lines(session, run)
    run.status = RunStatus.cancelled
    run.excluded = None
    run.version += 1
    await record_event(
        session,
        events,
        "payroll_run.cancelled",
        f"payroll-run/{run.id}",
        {"region_code": run.region_code, "month": run.month.strftime("%Y-%m"), "by": by},
    )
    return run


# Live runs other than the one reversed that hold a correction of one of its worker-months: computed
# against its payslip, they would be paid on top of a new run's full month.
CORRECTIONS_DEPENDENT_SQL = text(
    """
SELECT a.run_id, count(*) FROM compensation.payroll_adjustments a
JOIN compensation.payslips ps ON ps.worker_id = a.worker_id AND ps.month = a.month AND ps.run_id = :run_id
JOIN compensation.payroll_runs r ON r.id = a.run_id
WHERE a.run_id <> :run_id AND r.status = ANY(CAST(:live AS text[]))
GROUP BY a.run_id
"""
)


@dataclass(frozen=True)
class Dependent:
    """A live run holding what was computed against the run to be reversed."""

    run_id: uuid.UUID
    region_code: str
    status: str
    corrections: int  # corrections of the run's worker-months
    bonus_payouts: int  # C5 payouts that counted the run's

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"run_id": str(self.run_id)}

    def describe(self) -> str:
        return f"{self.run_id} ({self.region_code}, {self.status}, {self.corrections}, {self.bonus_payouts})"


async def dependent_runs(session: AsyncSession, run_id: uuid.UUID) -> list[Dependent]:
    """The live runs that hold corrections computed against this run's payslips, or C5 payouts that counted
    its payouts (``bonus_payouts.dependent_runs``), by region and id."""
    live = [s.value for s in LIVE_RUNS]
    rows = await session.execute(CORRECTIONS_DEPENDENT_SQL, {"run_id": run_id, "live": live})
    corrections = {uuid.UUID(str(r)): int(n) for r, n in rows.all()}
    bonuses = await bonus_payouts.dependent_runs(session, run_id)
    ids = set(corrections) | set(bonuses)
    if not ids:
        return []
    runs = (await session.scalars(select(PayrollRun).where(PayrollRun.id.in_(ids)))).all()
    found = [Dependent(r.id, r.region_code, r.status, corrections.get(r.id, 0), bonuses.get(r.id, 0)) for r in runs]
    return sorted(found, key=lambda d: (d.region_code, str(d.run_id)))


async def reverse(session: AsyncSession, run_id: uuid.UUID, reason: str, by: str) -> PayrollRun:
    """Reverse an approved run that was not paid: status ``reversed`` (reason, who, when kept), its lines
    removed, its workers' month free for another run; refused (409) for any other state and while another
    live run holds a correction computed against it. Paid once holds throughout (see the module doc)."""
    # First the table lock (no calculation runs or starts meanwhile), then the run: a reversal never
    # waits on a row lock while holding a lock another reversal waits for.
    await session.execute(text("LOCK TABLE compensation.payroll_runs IN EXCLUSIVE MODE"))
    run = await session.scalar(
        select(PayrollRun).where(PayrollRun.id == run_id).execution_options(populate_existing=True)
    )
    assert run is not None  # runs are never deleted, and the caller saw it
    if run.status == RunStatus.paid:
        raise Conflict(
            Message(
                "该批次状态为 {status}（{paid_at} 已发放），不能冲销：已发出的工资不能通过改变状态收回。"
                "多发部分请在以后月份的核算中以负数更正扣回（每人每月只发一次）",
                "The run is {status} (paid {paid_at}): it cannot be reversed, money paid out is not taken back by a "
                "change of state. Recover an overpayment as a negative correction in a later run "
                "(a worker-month is paid once)",
            ),
            status=run.status,
            paid_at=run.paid_at.isoformat() if run.paid_at else "-",
        )
    if run.status != RunStatus.approved:
        raise Conflict(
            Message(
                "状态为 {status}，不能冲销：只有已审批未发放的批次可以冲销（未审批的批次请撤销）",
                "The run is {status}: only an approved run not yet paid can be reversed (cancel one not approved)",
            ),
            status=run.status,
        )
    dependents = await dependent_runs(session, run.id)
    if dependents:
        problem = Conflict(
            Message(
                "其他核算批次已含有依据本批次计算的更正或绩效奖金：{runs}。冲销后这些金额会重复发放或多扣，"
                "请先撤销或冲销这些批次（每人每月只发一次，奖金只发一次）",
                "Other runs hold corrections or bonus payouts computed against this run's: {runs}. Reversed, "
                "those would be paid on top of a new run (or take back what was never paid); cancel or reverse "
                "them first (a worker-month is paid once, a bonus once: C5)",
            ),
            runs="; ".join(d.describe() for d in dependents),
        )
        problem.extra["dependent_runs"] = [d.as_json() for d in dependents]
        raise problem
    await clear_lines(session, run)
    run.status = RunStatus.reversed
    run.reversed_by, run.reversed_at, run.reversal_reason = by, datetime.now(UTC), reason
    run.version += 1
    await session.flush()
    event = PayrollRunReversed(
        run_id=run.id,
        region_code=run.region_code,
        month=run.month.strftime("%Y-%m"),
        workers=run.workers,
        gross_total=run.gross_total,
        net_total=run.net_total,
        approved_by=run.approved_by,
        by=by,
        reason=reason,
    )
    await record_event(session, events, "payroll_run.reversed", f"payroll-run/{run.id}", event.to_data())
    return run


NO_SUCH_RUN = Message("工资核算批次不存在", "No such payroll run")


visible_run = RegionScoped(PayrollRun, lambda r: r.region_code, NO_SUCH_RUN)
"""A run of a region the caller sees (404 otherwise), locked with ``lock=True``."""
