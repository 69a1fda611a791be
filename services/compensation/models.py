"""Compensation service tables, all in the PostgreSQL schema ``compensation``. Money is NUMERIC(12, 2)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import GeneratedId, ProjectedGrade, Timestamp
from shared.db import schema_metadata
from shared.import_jobs import ImportErrorColumns, ImportJobColumns
from shared.projections import ProjectedWorker
from shared.service_tables import service_tables
from shared.sync import ChangeTracked

Money = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = schema_metadata("compensation")


# The outbox, Idempotency-Key records and feed cursors (shared/service_tables.py).
# Where compensation is in the roster's and the evaluation service's feeds.
events, idempotency_keys, feed_cursors = service_tables(Base.metadata)


class WorkerProjection(ProjectedWorker, Base):
    """The pay-relevant attributes of the roster's workers, from the roster's feed."""

    township_code: Mapped[str] = mapped_column(String(12))
    left_date: Mapped[date | None] = mapped_column(Date, comment="last day worked and paid (C6)")
    education: Mapped[str | None] = mapped_column(String(20))
    certificate_level: Mapped[str | None] = mapped_column(String(20))
    certificate_date: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[Timestamp] = mapped_column(comment="when this copy last changed (corrections)")


class Employment(Base):
    """One employment of a worker: a person who leaves and is hired again keeps one worker id."""

    __tablename__ = "employments"

    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    hire_date: Mapped[date] = mapped_column(Date, primary_key=True)
    left_date: Mapped[date | None] = mapped_column(Date, comment="last day worked and paid, inclusive (C6)")


class PostPeriod(Base):
    """A worker's post and grade for a period [start, end), from the roster's ``post.assigned``."""

    __tablename__ = "post_periods"
    __table_args__ = (Index("post_periods_worker_id_idx", "worker_id", "start_date"),)

    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    start_date: Mapped[date] = mapped_column(Date, primary_key=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    post: Mapped[str] = mapped_column(String(10))
    grade: Mapped[int] = mapped_column(SmallInteger)
    recorded_at: Mapped[Timestamp] = mapped_column(comment="when this copy last changed (corrections)")


class AssessmentGrade(ProjectedGrade, Base):
    """Annual grades from the evaluation service's feed (C5 bonus, C7 step-up)."""

    __tablename__ = "assessment_grades"


class ClosedCycle(Base):
    """Townships whose annual assessment is closed, from the evaluation feed's ``cycle.closed``: recorded after
    every grade of the cycle, so a township listed here has all its grades of the year (C5 shares only then)."""

    __tablename__ = "closed_cycles"

    township_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    results: Mapped[int] = mapped_column(Integer, comment="grades the cycle produced")
    recorded_at: Mapped[Timestamp]


class PolicyProfile(Base):
    """Pay parameters for a region and year (C1–C11), each with its source; resolved up the region tree."""

    __tablename__ = "policy_profiles"

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    preset: Mapped[str | None] = mapped_column(String(20), comment="wenzhou | taizhou")
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    sources: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="parameter → source note")


class ReferenceStatistic(Base):
    """A statistic a target is computed from (C2, C3), with its source."""

    __tablename__ = "reference_statistics"

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Money)
    source: Mapped[str] = mapped_column(String(300))


class PayScaleCell(Base):
    """Annual pay of one post and grade (三岗十八级, C4) in a county for a year."""

    __tablename__ = "pay_scale_cells"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 18", name="grade"),
        CheckConstraint("annual_amount >= 0", name="amount"),
    )

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    post: Mapped[str] = mapped_column(String(10), primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    annual_amount: Mapped[Decimal] = mapped_column(Money)


class PayrollRun(ChangeTracked, Base):
    """A month's payroll of a township (or a county or city at once): draft → calculated → approved → paid."""

    __tablename__ = "payroll_runs"
    __table_args__ = (
        # No "one approved run per region and month": a supplementary run of the same township and month
        # pays a worker hired late into it, and payslips (unique per worker and month) keep it paid once.
        Index("payroll_runs_month_idx", "month", "status"),
        Index("payroll_runs_change_txid_idx", "change_txid"),
        CheckConstraint(
            "status IN ('draft', 'calculating', 'calculated', 'approved', 'paid', 'failed', 'cancelled', 'reversed')",
            name="status",
        ),
        CheckConstraint(
            "(status = 'reversed') = "
            "(reversed_at IS NOT NULL AND reversed_by IS NOT NULL AND reversal_reason IS NOT NULL)",
            name="reversal",
        ),
    )

    id: Mapped[GeneratedId]
    region_code: Mapped[str] = mapped_column(String(12))
    month: Mapped[date] = mapped_column(Date, comment="first day of the month")
    status: Mapped[str] = mapped_column(String(12))
    workers: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    gross_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    net_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    employer_total: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(120))
    calculated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    calculated_by: Mapped[str | None] = mapped_column(
        String(120), comment="who asked for the last calculation: another person approves the run"
    )
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    lease_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="while calculating: the calculation's heartbeat lease"
    )
    failure: Mapped[str | None] = mapped_column(String(500), comment="why the last calculation failed")
    reversed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when the approved run was reversed"
    )
    reversed_by: Mapped[str | None] = mapped_column(String(120), comment="who reversed it")
    reversal_reason: Mapped[str | None] = mapped_column(String(300), comment="why it was reversed")
    excluded: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONB, comment="workers left out because another run already pays their month, per run"
    )


class Payslip(Base):
    """One worker's pay of one run: one row, one column per component (a wide row is ten times cheaper
    to write than ten line rows, which is what makes a province's payroll fit in seconds). Deductions are
    stored positive and shown negative; employer contributions are apart (C1, C9)."""

    __tablename__ = "payslips"
    # Paid once: at most one payslip per worker and month, whatever the level of the run that holds it.
    # Payslips exist only for runs calculating, calculated, approved or paid: a failed or cancelled run's
    # lines are deleted, so this unique index is the database's guarantee that no month is paid twice.
    __table_args__ = (Index("payslips_worker_month_key", "worker_id", "month", unique=True),)

    # No foreign key to payroll_runs, on purpose: its per-row trigger costs 12 % of a province's payroll
    # (docs/benchmarks.md). Payslips are written only by the calculation of an existing run, and runs are
    # never deleted.
    run_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    month: Mapped[date] = mapped_column(Date, comment="first day of the month paid (the run's month)")
    basis: Mapped[str | None] = mapped_column(String(200), comment="post, grade and days of the month (C4, C6)")
    base: Mapped[Decimal] = mapped_column(Money, comment="C5 base wage")
    certificate_allowance: Mapped[Decimal] = mapped_column(Money, comment="C8")
    bonus: Mapped[Decimal] = mapped_column(
        Money, server_default=text("0"), comment="C5: the sum of the run's bonus payouts for the worker"
    )
    bonus_basis: Mapped[str | None] = mapped_column(String(300), comment="C5: which allocations the bonus settles")
    adjustment: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    pension: Mapped[Decimal] = mapped_column(Money)
    medical: Mapped[Decimal] = mapped_column(Money)
    unemployment: Mapped[Decimal] = mapped_column(Money)
    housing_fund: Mapped[Decimal] = mapped_column(Money)
    income_tax: Mapped[Decimal] = mapped_column(Money)
    employer_pension: Mapped[Decimal] = mapped_column(Money)
    employer_medical: Mapped[Decimal] = mapped_column(Money)
    employer_unemployment: Mapped[Decimal] = mapped_column(Money)
    employer_injury: Mapped[Decimal] = mapped_column(Money)
    employer_housing_fund: Mapped[Decimal] = mapped_column(Money)


class PayrollAdjustment(Base):
    """A correction of an approved month, paid in a later run (approved runs never change)."""

    __tablename__ = "payroll_adjustments"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payroll_runs.id", ondelete="CASCADE"), primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True, comment="the month corrected")
    amount: Mapped[Decimal] = mapped_column(Money)


class BonusAllocation(Base):
    """A township's annual bonus pool shared by assessment grade and months in post (C5).

    A ledger: one live allocation per township and year (the partial unique index); changing it is a
    replacement that reverses the earlier one, which is kept with who reversed it, when, and by which."""

    __tablename__ = "bonus_allocations"
    __table_args__ = (
        Index(
            "bonus_allocations_live_key",
            "township_code",
            "year",
            unique=True,
            postgresql_where=text("reversed_at IS NULL"),
        ),
        CheckConstraint("(reversed_at IS NULL) = (replaced_by IS NULL)", name="reversal"),
    )

    id: Mapped[GeneratedId]
    township_code: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(SmallInteger)
    pool: Mapped[Decimal] = mapped_column(Money)
    shares: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Timestamp]
    replaces: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bonus_allocations.id"), comment="the allocation this one replaced and reversed (C5)"
    )
    reason: Mapped[str | None] = mapped_column(String(300), comment="why it replaced the earlier allocation")
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID, comment="the allocation that replaced this one; NULL while it is the live one (C5)"
    )
    reversed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when a replacement reversed it; NULL while it is the live one"
    )
    reversed_by: Mapped[str | None] = mapped_column(String(120), comment="who replaced it")


class BonusPayout(Base):
    """What one payroll run pays of a worker's C5 bonus of a township and year: the live allocation's share
    less what other live runs already pay of it (negative when a replacement lowered a share already paid).

    Rows exist only for live runs, like payslips: they go with the run's lines when it is recalculated,
    cancelled, reversed or fails, and a later calculation pays what is then due (``bonus_payouts.py``)."""

    __tablename__ = "bonus_payouts"

    # No foreign keys, as for payslips (a per-row trigger costs a quarter of the bonus's part of a province's
    # run): written only by the calculation of an existing run, from the live allocations it has locked; runs
    # and allocations are never deleted.
    run_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    township_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    allocation_id: Mapped[uuid.UUID] = mapped_column(
        UUID, comment="the allocation live when the payout was computed (C5)"
    )
    amount: Mapped[Decimal] = mapped_column(Money, comment="C5: the share due less what other live runs pay of it")
    basis: Mapped[str] = mapped_column(String(200), comment="the year, township, allocation, share and paid before")
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=text("clock_timestamp()"),
        comment="when it was computed: a later payout of the same bonus counted it (a reversal waits for it)",
    )


class RecuperationClaim(ChangeTracked, Base):
    """Recuperation leave taken (疗休养, C10): the amount asked and the amount allowed within the caps,
    side by side, with the reasons for any difference."""

    __tablename__ = "recuperation_claims"
    __table_args__ = (
        Index("recuperation_claims_worker_idx", "worker_id", "start_date"),
        Index("recuperation_claims_change_txid_idx", "change_txid"),
        CheckConstraint("amount_allowed > 0 AND amount_allowed <= amount_requested", name="amounts"),
    )

    id: Mapped[GeneratedId]
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID)
    start_date: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(SmallInteger)
    amount_requested: Mapped[Decimal] = mapped_column(Money, comment="the cost claimed")
    amount_allowed: Mapped[Decimal] = mapped_column(Money, comment="what the caps allow (C10); counts to the year")
    reductions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb"), comment="why less was allowed than asked: rule, code, zh, en (C10)"
    )
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Timestamp]


class QuotaProjection(Base):
    """Counties' headcount quotas (S5) from the roster's feed, for the pay budget (C11)."""

    __tablename__ = "quotas"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)


class StepUpOrder(Base):
    """A grade step-up for the roster (C7): recorded in the step-up's own transaction, sent after it commits
    and retried until the roster confirms it; the roster applies it once (the order id is the request's
    Idempotency-Key). One order per worker and effective date, however often the step-up is applied."""

    __tablename__ = "step_up_orders"
    __table_args__ = (
        Index("step_up_orders_worker_effective_key", "worker_id", "effective", unique=True),
        CheckConstraint("status IN ('pending', 'sending', 'confirmed', 'rejected')", name="status"),
    )

    id: Mapped[GeneratedId]
    region_code: Mapped[str] = mapped_column(String(12))
    worker_id: Mapped[uuid.UUID] = mapped_column(UUID)
    post: Mapped[str] = mapped_column(String(10))
    grade: Mapped[int] = mapped_column(SmallInteger, comment="the new grade (C7)")
    effective: Mapped[date] = mapped_column(Date, comment="1 January of the step-up year")
    status: Mapped[str] = mapped_column(String(10), comment="pending | sending | confirmed | rejected", index=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="while being sent")
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Timestamp]
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportJob(ImportJobColumns, Base):
    """A spreadsheet upload and its background run (issue #13; the shape is ``shared.import_jobs``)."""


class ImportCellError(ImportErrorColumns, Base):
    """One bad cell of an import job (``shared.import_jobs``)."""
