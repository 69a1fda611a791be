"""roster: the audit of personal-data reads synced in commit order (``updated_since`` on its list)

``personal_data_reads.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: roster_0014
Revises: roster_0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "roster_0014"
down_revision: str | None = "roster_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "personal_data_reads",
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
    op.create_index("personal_data_reads_change_txid_idx", "personal_data_reads", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER personal_data_reads_change_txid BEFORE UPDATE ON "roster".personal_data_reads
        FOR EACH ROW EXECUTE FUNCTION "roster".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER personal_data_reads_commit_position
        AFTER INSERT OR UPDATE ON "roster".personal_data_reads
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "roster".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER personal_data_reads_commit_position ON "roster".personal_data_reads')
    op.execute('DROP TRIGGER personal_data_reads_change_txid ON "roster".personal_data_reads')
    op.drop_index("personal_data_reads_change_txid_idx", table_name="personal_data_reads", schema=SCHEMA)
    op.drop_column("personal_data_reads", "change_txid", schema=SCHEMA)
