"""roster: import jobs synced in commit order (``updated_since`` on their list, shared/sync.py)

``import_jobs.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: roster_0012
Revises: roster_0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "roster_0012"
down_revision: str | None = "roster_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "import_jobs")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "import_jobs")
