"""evaluation: assessment cycles synced in commit order (``updated_since`` on the cycles list, shared/sync.py)

``cycles.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: evaluation_0010
Revises: evaluation_0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "evaluation_0010"
down_revision: str | None = "evaluation_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "cycles")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "cycles")
