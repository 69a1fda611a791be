"""evaluation: visits synced in commit order (``updated_since`` on the visit lists, shared/sync.py)

``visits.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: evaluation_0009
Revises: evaluation_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_0009"
down_revision: str | None = "evaluation_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "visits",
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
    op.create_index("visits_change_txid_idx", "visits", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER visits_change_txid BEFORE UPDATE ON "evaluation".visits
        FOR EACH ROW EXECUTE FUNCTION "evaluation".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER visits_commit_position AFTER INSERT OR UPDATE ON "evaluation".visits
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "evaluation".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER visits_commit_position ON "evaluation".visits')
    op.execute('DROP TRIGGER visits_change_txid ON "evaluation".visits')
    op.drop_index("visits_change_txid_idx", table_name="visits", schema=SCHEMA)
    op.drop_column("visits", "change_txid", schema=SCHEMA)
