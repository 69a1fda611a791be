"""compensation: recuperation claims synced in commit order (``updated_since`` on the claims list)

``recuperation_claims.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: compensation_0015
Revises: compensation_0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0015"
down_revision: str | None = "compensation_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compensation"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "recuperation_claims",
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
    op.execute(f'INSERT INTO "compensation".event_commits (txid) VALUES ({TXID}) ON CONFLICT (txid) DO NOTHING')  # noqa: S608 - constants
    op.create_index("recuperation_claims_change_txid_idx", "recuperation_claims", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER recuperation_claims_change_txid BEFORE UPDATE ON "compensation".recuperation_claims
        FOR EACH ROW EXECUTE FUNCTION "compensation".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER recuperation_claims_commit_position
        AFTER INSERT OR UPDATE ON "compensation".recuperation_claims
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "compensation".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER recuperation_claims_commit_position ON "compensation".recuperation_claims')
    op.execute('DROP TRIGGER recuperation_claims_change_txid ON "compensation".recuperation_claims')
    op.drop_index("recuperation_claims_change_txid_idx", table_name="recuperation_claims", schema=SCHEMA)
    op.drop_column("recuperation_claims", "change_txid", schema=SCHEMA)
