"""roster: the audit of personal-data reads synced in commit order (``updated_since`` on its list)

``personal_data_reads.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: roster_0014
Revises: roster_0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "roster_0014"
down_revision: str | None = "roster_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "personal_data_reads")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "personal_data_reads")
