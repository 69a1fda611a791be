"""compensation: the region of each outbox event, for region-scoped feeds

``events.region``: the region an event belongs to, backfilled from the payload (its community, township,
county or region code), indexed for prefix search; the feed filters on it for callers below the
province (shared/events.py). Events that name no region stay null: province-wide readers only.

Revision ID: compensation_0011
Revises: compensation_0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_outbox_region, drop_outbox_region

revision: str = "compensation_0011"
down_revision: str | None = "compensation_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compensation"


def upgrade() -> None:
    add_outbox_region(SCHEMA)


def downgrade() -> None:
    drop_outbox_region(SCHEMA)
