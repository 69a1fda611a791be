"""compensation: recuperation events carry their worker's region (county feeds, issue #13)

``recuperation.recorded`` named no region (its payload has the worker, not the community), so only
province-wide readers saw it; the producer now sets the worker's community, and the events written
before take it from the worker projection.

Revision ID: compensation_0014
Revises: compensation_0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "compensation_0014"
down_revision: str | None = "compensation_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE "compensation".events AS e SET region = w.community_code
        FROM "compensation".workers AS w
        WHERE e.type = 'recuperation.recorded' AND e.region IS NULL
          AND w.worker_id = (e.data->>'worker_id')::uuid
        """
    )


def downgrade() -> None:
    """The regions stay: they were true before the upgrade too."""
