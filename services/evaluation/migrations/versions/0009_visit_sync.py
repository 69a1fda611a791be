"""evaluation: visits synced in commit order (``updated_since`` on the visit lists, shared/sync.py)

``visits.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: evaluation_0009
Revises: evaluation_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "evaluation_0009"
down_revision: str | None = "evaluation_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "visits")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "visits")
