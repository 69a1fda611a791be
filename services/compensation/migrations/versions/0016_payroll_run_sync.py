"""compensation: payroll runs synced in commit order (``updated_since`` on the runs list)

``payroll_runs.change_txid`` stamped on update (insert takes the default), and the outbox's deferred
commit-position trigger on every write, as ``roster_0009`` did for workers.

Revision ID: compensation_0016
Revises: compensation_0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0016"
down_revision: str | None = "compensation_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "compensation"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    op.add_column(
        "payroll_runs",
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
    op.create_index("payroll_runs_change_txid_idx", "payroll_runs", ["change_txid"], schema=SCHEMA)
    op.execute(
        """
        CREATE TRIGGER payroll_runs_change_txid BEFORE UPDATE ON "compensation".payroll_runs
        FOR EACH ROW EXECUTE FUNCTION "compensation".stamp_change_txid()
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER payroll_runs_commit_position
        AFTER INSERT OR UPDATE ON "compensation".payroll_runs
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "compensation".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER payroll_runs_commit_position ON "compensation".payroll_runs')
    op.execute('DROP TRIGGER payroll_runs_change_txid ON "compensation".payroll_runs')
    op.drop_index("payroll_runs_change_txid_idx", table_name="payroll_runs", schema=SCHEMA)
    op.drop_column("payroll_runs", "change_txid", schema=SCHEMA)
