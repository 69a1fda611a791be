"""compensation: recuperation claims synced in commit order (``updated_since`` on the claims list)

``recuperation_claims.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: compensation_0015
Revises: compensation_0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import add_commit_order_sync, drop_commit_order_sync

revision: str = "compensation_0015"
down_revision: str | None = "compensation_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compensation"


def upgrade() -> None:
    add_commit_order_sync(SCHEMA, "recuperation_claims")


def downgrade() -> None:
    drop_commit_order_sync(SCHEMA, "recuperation_claims")
