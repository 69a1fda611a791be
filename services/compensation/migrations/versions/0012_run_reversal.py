"""compensation: an approved payroll run not yet paid can be reversed (status ``reversed``, with the reason,
who and when); its lines go, which frees its worker-months for another run of the month

Revision ID: compensation_0012
Revises: compensation_0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0012"
down_revision: str | None = "compensation_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"
BEFORE = "'draft', 'calculating', 'calculated', 'approved', 'paid', 'failed', 'cancelled'"
STATUSES = BEFORE + ", 'reversed'"


def upgrade() -> None:
    op.add_column(
        "payroll_runs",
        sa.Column("reversed_at", sa.DateTime(timezone=True), comment="when the approved run was reversed"),
        schema=S,
    )
    op.add_column("payroll_runs", sa.Column("reversed_by", sa.String(120), comment="who reversed it"), schema=S)
    op.add_column("payroll_runs", sa.Column("reversal_reason", sa.String(300), comment="why it was reversed"), schema=S)
    op.drop_constraint(op.f("payroll_runs_status_check"), "payroll_runs", schema=S, type_="check")
    op.create_check_constraint(op.f("payroll_runs_status_check"), "payroll_runs", f"status IN ({STATUSES})", schema=S)
    op.create_check_constraint(
        op.f("payroll_runs_reversal_check"),
        "payroll_runs",
        "(status = 'reversed') = (reversed_at IS NOT NULL AND reversed_by IS NOT NULL AND reversal_reason IS NOT NULL)",
        schema=S,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("payroll_runs_reversal_check"), "payroll_runs", schema=S, type_="check")
    op.drop_constraint(op.f("payroll_runs_status_check"), "payroll_runs", schema=S, type_="check")
    op.execute("UPDATE compensation.payroll_runs SET status = 'cancelled' WHERE status = 'reversed'")
    op.create_check_constraint(op.f("payroll_runs_status_check"), "payroll_runs", f"status IN ({BEFORE})", schema=S)
    op.drop_column("payroll_runs", "reversal_reason", schema=S)
    op.drop_column("payroll_runs", "reversed_by", schema=S)
    op.drop_column("payroll_runs", "reversed_at", schema=S)
