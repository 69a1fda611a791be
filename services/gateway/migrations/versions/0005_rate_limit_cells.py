"""gateway: rate-limit state shared by every replica

Revision ID: gateway_0005
Revises: gateway_0004
Create Date: 2026-11-30

The GCRA counters of the gateway's rate limits lived in each process, so N replicas allowed N times the
limit. One row per key (its theoretical arrival time by the database's clock) makes the limit hold for
the whole deployment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0005"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_cells",
        sa.Column("key", sa.String(length=300), nullable=False, comment="kind:subject|limit/window"),
        sa.Column(
            "tat",
            sa.Double(),
            nullable=False,
            comment="theoretical arrival time, seconds since the epoch by the database's clock",
        ),
        sa.PrimaryKeyConstraint("key"),
        schema="gateway",
    )
    op.create_index("rate_limit_cells_tat_idx", "rate_limit_cells", ["tat"], schema="gateway")


def downgrade() -> None:
    op.drop_index("rate_limit_cells_tat_idx", table_name="rate_limit_cells", schema="gateway")
    op.drop_table("rate_limit_cells", schema="gateway")
