"""roster: regions synced in commit order (``updated_since`` on the children and descendants lists)

``regions.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: roster_0013
Revises: roster_0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "roster_0013"
down_revision: str | None = "roster_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "regions",
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
    op.execute(f'INSERT INTO "roster".event_commits (txid) VALUES ({TXID}) ON CONFLICT (txid) DO NOTHING')  # noqa: S608 - constants
    op.create_index("regions_change_txid_idx", "regions", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER regions_change_txid BEFORE UPDATE ON "roster".regions
        FOR EACH ROW EXECUTE FUNCTION "roster".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER regions_commit_position AFTER INSERT OR UPDATE ON "roster".regions
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "roster".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER regions_commit_position ON "roster".regions')
    op.execute('DROP TRIGGER regions_change_txid ON "roster".regions')
    op.drop_index("regions_change_txid_idx", table_name="regions", schema=SCHEMA)
    op.drop_column("regions", "change_txid", schema=SCHEMA)
