"""compensation: a worker-month is paid once (unique payslip per worker and month), runs that fail or die
end ``failed`` (lease with a heartbeat), employment periods (re-hire), why a run left workers out

Revision ID: compensation_0007
Revises: compensation_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "compensation_0007"
down_revision: str | None = "compensation_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"
STATUSES = "'draft', 'calculating', 'calculated', 'approved', 'paid', 'failed', 'cancelled'"


def upgrade() -> None:
    op.add_column(
        "payroll_runs",
        sa.Column(
            "lease_until", sa.DateTime(timezone=True), comment="while calculating: the calculation's heartbeat lease"
        ),
        schema=S,
    )
    op.add_column(
        "payroll_runs", sa.Column("failure", sa.String(500), comment="why the last calculation failed"), schema=S
    )
    op.add_column(
        "payroll_runs",
        sa.Column("excluded", JSONB, comment="workers left out because another run already pays their month, per run"),
        schema=S,
    )
    op.create_check_constraint(op.f("payroll_runs_status_check"), "payroll_runs", f"status IN ({STATUSES})", schema=S)
    # A supplementary run of a region and month already approved may pay a worker hired late into it:
    # payslips, unique per worker and month, keep every worker-month paid once.
    op.drop_index("payroll_runs_one_approved_idx", "payroll_runs", schema=S)
    op.create_index("payroll_runs_month_idx", "payroll_runs", ["month", "status"], schema=S)

    # Paid once (issue: a worker-month is paid once whatever the level of the run): the month on every
    # payslip and a unique index on (worker, month). A failed or cancelled run keeps no payslips.
    op.add_column(
        "payslips", sa.Column("month", sa.Date, comment="first day of the month paid (the run's month)"), schema=S
    )
    op.execute(
        "UPDATE compensation.payslips p SET month = r.month FROM compensation.payroll_runs r WHERE r.id = p.run_id"
    )
    op.execute("DELETE FROM compensation.payslips WHERE month IS NULL")
    op.alter_column("payslips", "month", nullable=False, schema=S)
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT worker_id, month, string_agg(run_id::text, ', ') FROM compensation.payslips"
                " GROUP BY worker_id, month HAVING count(*) > 1 ORDER BY month, worker_id LIMIT 20"
            )
        )
        .all()
    )
    if duplicates:  # the very defect this migration closes: money to be recovered by people, not by a script
        listed = "; ".join(f"worker {w} {m:%Y-%m} in runs {runs}" for w, m, runs in duplicates)
        raise RuntimeError(
            "payslips pay some worker-months more than once; settle them (cancel or reverse the extra runs) "
            f"before upgrading: {listed}"
        )
    op.drop_index("payslips_worker_id_idx", "payslips", schema=S)
    op.create_index("payslips_worker_month_key", "payslips", ["worker_id", "month"], unique=True, schema=S)

    # Employment periods: a person who leaves and is hired again keeps one worker id (re-hire).
    op.create_table(
        "employments",
        sa.Column("worker_id", UUID, primary_key=True),
        sa.Column("hire_date", sa.Date, primary_key=True),
        sa.Column("left_date", sa.Date, comment="last day worked and paid, inclusive (C6)"),
        schema=S,
    )
    op.execute("INSERT INTO compensation.employments SELECT worker_id, hire_date, left_date FROM compensation.workers")


def downgrade() -> None:
    op.drop_table("employments", schema=S)
    op.drop_index("payslips_worker_month_key", "payslips", schema=S)
    op.create_index("payslips_worker_id_idx", "payslips", ["worker_id"], schema=S)
    op.drop_column("payslips", "month", schema=S)
    op.drop_index("payroll_runs_month_idx", "payroll_runs", schema=S)
    op.create_index(
        "payroll_runs_one_approved_idx",
        "payroll_runs",
        ["region_code", "month"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status IN ('approved', 'paid')"),
    )
    op.drop_constraint(op.f("payroll_runs_status_check"), "payroll_runs", schema=S, type_="check")
    op.drop_column("payroll_runs", "excluded", schema=S)
    op.drop_column("payroll_runs", "failure", schema=S)
    op.drop_column("payroll_runs", "lease_until", schema=S)
