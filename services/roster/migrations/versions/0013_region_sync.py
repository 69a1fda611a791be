"""roster: regions synced in commit order (``updated_since`` on the children and descendants lists)

``regions.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: roster_0013
Revises: roster_0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "roster_0013"
down_revision: str | None = "roster_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "regions")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "regions")
