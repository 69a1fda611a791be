"""gateway: rate-limit cells record the block of admissions a replica leased

Revision ID: gateway_0007
Revises: gateway_0006
Create Date: 2026-11-30

A gateway replica leases a block of admissions from a key's cell in one upsert instead of making a round
trip per request (issue #16); the cell keeps how many the last lease took, so the upsert can return it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0007"
down_revision: str | None = "gateway_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "rate_limit_cells",
        sa.Column(
            "granted",
            sa.Integer(),
            server_default=sa.text("1"),
            nullable=False,
            comment="admissions the last lease took (a replica's block)",
        ),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_column("rate_limit_cells", "granted", schema="gateway")
