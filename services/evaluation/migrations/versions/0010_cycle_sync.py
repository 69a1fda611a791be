"""evaluation: assessment cycles synced in commit order (``updated_since`` on the cycles list, shared/sync.py)

``cycles.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: evaluation_0010
Revises: evaluation_0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_0010"
down_revision: str | None = "evaluation_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "cycles",
        sa.Column(
            "change_txid",
            sa.BigInteger(),
            server_default=sa.text(TXID),
            nullable=False,
            comment="the transaction that last wrote the row (pull sync)",
        ),
        schema=SCHEMA,
    )
    # The existing rows were all written by this transaction: number it like any other.
    op.execute(f'INSERT INTO "evaluation".event_commits (txid) VALUES ({TXID}) ON CONFLICT (txid) DO NOTHING')  # noqa: S608 - constants
    op.create_index("cycles_change_txid_idx", "cycles", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER cycles_change_txid BEFORE UPDATE ON "evaluation".cycles
        FOR EACH ROW EXECUTE FUNCTION "evaluation".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER cycles_commit_position AFTER INSERT OR UPDATE ON "evaluation".cycles
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "evaluation".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER cycles_commit_position ON "evaluation".cycles')
    op.execute('DROP TRIGGER cycles_change_txid ON "evaluation".cycles')
    op.drop_index("cycles_change_txid_idx", table_name="cycles", schema=SCHEMA)
    op.drop_column("cycles", "change_txid", schema=SCHEMA)
