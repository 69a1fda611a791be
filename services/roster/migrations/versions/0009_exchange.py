"""roster: bulk personal-data reads, pull sync of workers, region-scoped feed

- ``personal_data_reads.worker_ids``: one audit record names every worker of a bulk read or an export
  batch (existing records: their one worker); ``worker_id`` stays for single reads.
- ``workers.change_txid``: the transaction that last wrote the row (a trigger stamps it); the outbox's
  deferred trigger numbers that transaction in ``event_commits`` as it commits, so ``updated_since`` pages
  in commit order and never skips a late commit (shared/sync.py).
- ``events.region``: the region an event belongs to, backfilled from the payload, indexed; the feed
  filters on it for region-scoped callers (shared/events.py).

Revision ID: roster_0009
Revises: roster_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migration_ops import add_outbox_region, drop_outbox_region

revision: str = "roster_0009"
down_revision: str | None = "roster_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "roster"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    # Bulk reads: every worker named in one record.
    op.add_column(
        "personal_data_reads",
        sa.Column(
            "worker_ids",
            postgresql.ARRAY(postgresql.UUID(as_uuid=True)),
            nullable=True,
            comment="every worker whose data was shown (a bulk read or export names them all)",
        ),
        schema=SCHEMA,
    )
    op.execute('UPDATE "roster".personal_data_reads SET worker_ids = ARRAY[worker_id]')
    op.alter_column("personal_data_reads", "worker_ids", nullable=False, schema=SCHEMA)
    op.alter_column(
        "personal_data_reads",
        "worker_id",
        nullable=True,
        comment="the one worker of a single read",
        schema=SCHEMA,
    )
    op.alter_column(
        "personal_data_reads",
        "region",
        comment="the smallest region holding every worker named",
        existing_type=sa.String(12),
        schema=SCHEMA,
    )
    op.create_index(
        "personal_data_reads_worker_ids_idx",
        "personal_data_reads",
        ["worker_ids"],
        postgresql_using="gin",
        schema=SCHEMA,
    )

    # Pull sync of workers in commit order.
    op.add_column(
        "workers",
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
    op.create_index("workers_change_txid_idx", "workers", ["change_txid"], schema=SCHEMA)
    op.execute(
        f"""
        CREATE FUNCTION "roster".stamp_change_txid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_txid := {TXID};
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER workers_change_txid BEFORE UPDATE ON "roster".workers
        FOR EACH ROW EXECUTE FUNCTION "roster".stamp_change_txid()
        """
    )
    # The outbox's own function: the writing transaction gets the next position as it commits.
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER workers_commit_position AFTER INSERT OR UPDATE ON "roster".workers
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "roster".events_commit_position()
        """
    )

    # Region-scoped feed.
    add_outbox_region(SCHEMA)


def downgrade() -> None:
    drop_outbox_region(SCHEMA)
    op.execute('DROP TRIGGER workers_commit_position ON "roster".workers')
    op.execute('DROP TRIGGER workers_change_txid ON "roster".workers')
    op.execute('DROP FUNCTION "roster".stamp_change_txid()')
    op.drop_index("workers_change_txid_idx", table_name="workers", schema=SCHEMA)
    op.drop_column("workers", "change_txid", schema=SCHEMA)
    op.drop_index("personal_data_reads_worker_ids_idx", table_name="personal_data_reads", schema=SCHEMA)
    # The audit is append-only: a bulk record has no one worker to keep, so such a database stays up.
    bulk = op.get_bind().scalar(sa.text('SELECT count(*) FROM "roster".personal_data_reads WHERE worker_id IS NULL'))
    if bulk:
        raise RuntimeError(f"{bulk} bulk personal-data reads would lose their workers; not downgrading")
    op.alter_column("personal_data_reads", "worker_id", nullable=False, comment=None, schema=SCHEMA)
    op.alter_column("personal_data_reads", "region", comment=None, existing_type=sa.String(12), schema=SCHEMA)
    op.drop_column("personal_data_reads", "worker_ids", schema=SCHEMA)
