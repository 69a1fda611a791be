"""roster: each outbox event names its region (webhooks deliver an event only inside its region)

Revision ID: roster_0009
Revises: roster_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "roster_0009"
down_revision: str | None = "roster_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column(
            "region_code",
            sa.String(12),
            nullable=True,
            comment="the region the change belongs to (official code); webhooks deliver it only inside this region",
        ),
        schema="roster",
    )
    # Events written before: the most specific region member of their data (shared.events.event_region).
    op.execute(
        """
        UPDATE "roster".events SET region_code = COALESCE(
            NULLIF(data->>'community_code', ''), NULLIF(data->>'township_code', ''),
            NULLIF(data->>'county_code', ''), NULLIF(data->>'region_code', ''))
        """
    )


def downgrade() -> None:
    op.drop_column("events", "region_code", schema="roster")
