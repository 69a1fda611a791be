"""evaluation: the outbox's commit order (event_commits, numbered as each transaction commits)

The feed used to serve only events of transactions older than the oldest one running anywhere in the
PostgreSQL server, so one long transaction (even in another database) held every feed back. From here
on a deferred trigger numbers each outbox-writing transaction under the outbox's advisory lock as it
commits; the feed serves by that number (shared/events.py). Existing transactions are numbered in
transaction-id order, the order the old feed served them in, so consumers' cursors carry over.

Revision ID: evaluation_0005
Revises: evaluation_0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_0005"
down_revision: str | None = "evaluation_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"


def upgrade() -> None:
    op.create_table(
        "event_commits",
        sa.Column(
            "position",
            sa.BigInteger(),
            sa.Identity(always=True),
            nullable=False,
            comment="commit order of the outbox: allocated under the outbox lock as the transaction commits",
        ),
        sa.Column("txid", sa.BigInteger(), nullable=False, comment="the transaction whose events these are"),
        sa.Column(
            "committed_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("event_commits_pkey")),
        sa.UniqueConstraint("txid", name=op.f("event_commits_txid_key")),
        schema=SCHEMA,
    )
    op.execute(
        """
        CREATE FUNCTION "evaluation".events_commit_position() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            tx bigint := (pg_current_xact_id()::text)::bigint;
        BEGIN
            -- Once per transaction: the first of its events to reach here numbers the whole transaction.
            IF NOT EXISTS (SELECT 1 FROM "evaluation".event_commits WHERE txid = tx) THEN
                -- Held until the commit is visible: positions become visible in increasing order.
                PERFORM pg_advisory_xact_lock(1102136028114);  -- shared.events.outbox_lock_key('evaluation')
                INSERT INTO "evaluation".event_commits (txid) VALUES (tx);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    # Creating the trigger waits for every transaction writing events now; none can start until we commit.
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER events_commit_position AFTER INSERT ON "evaluation".events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "evaluation".events_commit_position()
        """
    )
    op.execute(
        """
        INSERT INTO "evaluation".event_commits (position, txid, committed_at) OVERRIDING SYSTEM VALUE
        SELECT row_number() OVER (ORDER BY txid), txid, max(occurred_at) FROM "evaluation".events GROUP BY txid
        """
    )
    op.execute(
        """
        SELECT setval(pg_get_serial_sequence('"evaluation".event_commits', 'position'),
                      coalesce((SELECT max(position) FROM "evaluation".event_commits), 0) + 1, false)
        """
    )


def downgrade() -> None:
    op.execute('DROP TRIGGER events_commit_position ON "evaluation".events')
    op.execute('DROP FUNCTION "evaluation".events_commit_position()')
    op.drop_table("event_commits", schema=SCHEMA)
