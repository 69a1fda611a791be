"""compensation: the C5 bonus is paid on payslips, once — ``bonus_payouts`` (what each live run pays of a
worker's share of a township's allocation for a year) and ``payslips.bonus_basis`` (which allocations a
payslip's bonus settles)

Revision ID: compensation_0017
Revises: compensation_0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "compensation_0017"
down_revision: str | None = "compensation_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"


def upgrade() -> None:
    op.create_table(
        "bonus_payouts",
        sa.Column("run_id", UUID, nullable=False),
        sa.Column("worker_id", UUID, nullable=False),
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column(
            "allocation_id", UUID, nullable=False, comment="the allocation live when the payout was computed (C5)"
        ),
        sa.Column(
            "amount",
            sa.Numeric(precision=12, scale=2),
            nullable=False,
            comment="C5: the share due less what other live runs pay of it",
        ),
        sa.Column(
            "basis",
            sa.String(200),
            nullable=False,
            comment="the year, township, allocation, share and paid before",
        ),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
            comment="when it was computed: a later payout of the same bonus counted it (a reversal waits for it)",
        ),
        sa.PrimaryKeyConstraint("run_id", "worker_id", "township_code", "year", name=op.f("bonus_payouts_pkey")),
        schema=S,
    )
    op.add_column(
        "payslips",
        sa.Column("bonus_basis", sa.String(300), comment="C5: which allocations the bonus settles"),
        schema=S,
    )
    op.alter_column(
        "payslips",
        "bonus",
        comment="C5: the sum of the run's bonus payouts for the worker",
        existing_comment="C5",
        existing_type=sa.Numeric(precision=12, scale=2),
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema=S,
    )


def downgrade() -> None:
    op.alter_column(
        "payslips",
        "bonus",
        comment="C5",
        existing_comment="C5: the sum of the run's bonus payouts for the worker",
        existing_type=sa.Numeric(precision=12, scale=2),
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema=S,
    )
    op.drop_column("payslips", "bonus_basis", schema=S)
    op.drop_table("bonus_payouts", schema=S)
