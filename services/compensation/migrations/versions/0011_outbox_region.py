"""compensation: the region of each outbox event, for region-scoped feeds

``events.region``: the region an event belongs to, backfilled from the payload (its community, township,
county or region code), indexed for prefix search; the feed filters on it for callers below the
province (shared/events.py). Events that name no region stay null: province-wide readers only.

Revision ID: compensation_0011
Revises: compensation_0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0011"
down_revision: str | None = "compensation_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compensation"
# shared.events.REGION_KEYS, most specific first (a migration keeps its own copy)
REGION_FROM_PAYLOAD = (
    "coalesce(data->>'community_code', data->>'to_community', data->>'township_code', data->>'county_code', "
    "data->>'region_code', data->>'code')"
)


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column(
            "region",
            sa.String(12),
            nullable=True,
            comment="the region the event belongs to (region-scoped feeds); null: province-wide readers only",
        ),
        schema=SCHEMA,
    )
    op.execute(f'UPDATE "compensation".events SET region = {REGION_FROM_PAYLOAD}')  # noqa: S608 - constants
    op.execute("""UPDATE "compensation".events SET region = NULL WHERE region !~ '^[0-9]{6}([0-9]{6})?$'""")
    op.create_index(
        "events_region_idx",
        "events",
        ["region"],
        postgresql_ops={"region": "text_pattern_ops"},
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index("events_region_idx", table_name="events", schema=SCHEMA)
    op.drop_column("events", "region", schema=SCHEMA)
