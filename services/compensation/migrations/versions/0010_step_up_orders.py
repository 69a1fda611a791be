"""compensation: step-up orders (C7) — recorded with the decision, sent to the roster after the commit and
retried until confirmed, never a remote call inside an open transaction

Revision ID: compensation_0010
Revises: compensation_0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "compensation_0010"
down_revision: str | None = "compensation_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "step_up_orders",
        sa.Column("id", UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("worker_id", UUID(), nullable=False),
        sa.Column("post", sa.String(10), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False, comment="the new grade (C7)"),
        sa.Column("effective", sa.Date(), nullable=False, comment="1 January of the step-up year"),
        sa.Column("status", sa.String(10), nullable=False, comment="pending | sending | confirmed | rejected"),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), comment="while being sent"),
        sa.Column("last_error", sa.String(300)),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'confirmed', 'rejected')", name=op.f("step_up_orders_status_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("step_up_orders_pkey")),
        schema="compensation",
    )
    op.create_index(
        "step_up_orders_worker_effective_key",
        "step_up_orders",
        ["worker_id", "effective"],
        unique=True,
        schema="compensation",
    )
    op.create_index("step_up_orders_status_idx", "step_up_orders", ["status"], schema="compensation")


def downgrade() -> None:
    op.drop_table("step_up_orders", schema="compensation")
