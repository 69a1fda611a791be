"""roster: employments (re-hiring, derived status), K3 career-staff date, P4 duties, H9 re-contracts

Revision ID: roster_0006
Revises: roster_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "roster_0006"
down_revision: str | None = "roster_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "employments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("worker_id", sa.UUID(), nullable=False),
        sa.Column("hire_date", sa.Date(), nullable=False, comment="first day employed"),
        sa.Column("left_date", sa.Date(), nullable=True, comment="inclusive: last day worked and paid (C6)"),
        sa.Column("probation_end", sa.Date(), nullable=False, comment="H4, inclusive: last day of probation"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("left_date IS NULL OR left_date >= hire_date", name=op.f("employments_period_check")),
        sa.ForeignKeyConstraint(["worker_id"], ["roster.workers.id"], name=op.f("employments_worker_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("employments_pkey")),
        schema="roster",
    )
    op.create_index("employments_worker_id_idx", "employments", ["worker_id"], unique=False, schema="roster")
    op.create_index(
        "employments_one_open_idx",
        "employments",
        ["worker_id"],
        unique=True,
        schema="roster",
        postgresql_where=sa.text("left_date IS NULL"),
    )
    # Every existing worker has had one employment. Its probation end is the first contract's where one
    # was signed (it was computed with the policy in force), else the H4 default of 6 months.
    op.execute(
        """
        INSERT INTO roster.employments (worker_id, hire_date, left_date, probation_end)
        SELECT w.id, w.hire_date, w.left_date,
               coalesce((SELECT c.probation_end FROM roster.contracts c
                          WHERE c.worker_id = w.id AND c.probation_end IS NOT NULL
                          ORDER BY c.start_date LIMIT 1),
                        (w.hire_date + interval '6 months')::date)
        FROM roster.workers w
        """
    )
    op.add_column(
        "workers",
        sa.Column("career_staff_date", sa.Date(), nullable=True, comment="K3: took a career-staff (事业编制) post"),
        schema="roster",
    )
    op.add_column(
        "workers",
        sa.Column("career_staff_document", sa.String(length=200), nullable=True, comment="K3: the appointing document"),
        schema="roster",
    )
    op.alter_column(
        "workers",
        "status",
        comment="status as last published in the feed; reads derive it as of a date (H4, H6)",
        existing_type=sa.String(length=12),
        schema="roster",
    )
    op.alter_column(
        "workers", "hire_date", comment="hire date of the latest employment", existing_type=sa.Date(), schema="roster"
    )
    op.alter_column(
        "workers",
        "left_date",
        comment="inclusive: last day of the latest employment",
        existing_type=sa.Date(),
        schema="roster",
    )
    op.add_column(
        "post_assignments",
        sa.Column(
            "duties",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
            comment="P4 duty areas",
        ),
        schema="roster",
    )
    op.add_column(
        "contracts",
        sa.Column(
            "h9_recontract",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="H9: re-contracting of a worker recruited before the rules",
        ),
        schema="roster",
    )
    op.add_column(
        "contracts",
        sa.Column(
            "prior_arrangement", sa.String(length=200), nullable=True, comment="H9: how the worker was engaged before"
        ),
        schema="roster",
    )


def downgrade() -> None:
    op.drop_column("contracts", "prior_arrangement", schema="roster")
    op.drop_column("contracts", "h9_recontract", schema="roster")
    op.drop_column("post_assignments", "duties", schema="roster")
    op.alter_column("workers", "left_date", comment=None, existing_type=sa.Date(), schema="roster")
    op.alter_column("workers", "hire_date", comment=None, existing_type=sa.Date(), schema="roster")
    op.alter_column("workers", "status", comment=None, existing_type=sa.String(length=12), schema="roster")
    op.drop_column("workers", "career_staff_document", schema="roster")
    op.drop_column("workers", "career_staff_date", schema="roster")
    op.drop_index("employments_one_open_idx", table_name="employments", schema="roster")
    op.drop_index("employments_worker_id_idx", table_name="employments", schema="roster")
    op.drop_table("employments", schema="roster")
