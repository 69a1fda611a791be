"""Migration steps several services' migrations take the same way. A step here is part of migrations already
written: change what it does only by adding a new step, never by editing one (a database migrated with
the old text must stay the same as one migrated with the new).

- ``add_commit_order_sync`` / ``drop_commit_order_sync``: a table synced in commit order for ``updated_since``
  (``shared/sync.py``): ``change_txid`` stamped on update (an insert takes the default), and the outbox's
  deferred commit-position trigger on every write, as ``roster_0009`` first did for workers. The schema's
  ``stamp_change_txid()`` and ``events_commit_position()`` functions must exist.
- ``add_outbox_region`` / ``drop_outbox_region``: ``events.region``, the region an event belongs to (for
  region-scoped feeds), backfilled from the payload's most specific region key, indexed for prefix search.
- ``create_import_jobs`` / ``drop_import_jobs``: a service's ``import_jobs`` and ``import_errors`` in the shape
  of ``shared/import_jobs.py``, synced in commit order, with the schema's ``stamp_change_txid()`` (the
  evaluation and compensation services; the roster's came in steps, roster_0010 and roster_0012).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TXID = "(pg_current_xact_id()::text)::bigint"


def _change_txid_column() -> sa.Column[int]:
    """The column ``shared.sync.ChangeTracked`` maps: the transaction that last wrote the row."""
    return sa.Column(
        "change_txid",
        sa.BigInteger(),
        server_default=sa.text(TXID),
        nullable=False,
        comment="the transaction that last wrote the row (pull sync)",
    )


def add_commit_order_sync(schema: str, table: str) -> None:
    op.add_column(
        table,
        _change_txid_column(),
        schema=schema,
    )
    # The existing rows were all written by this transaction: number it like any other.
    op.execute(f'INSERT INTO "{schema}".event_commits (txid) VALUES ({TXID}) ON CONFLICT (txid) DO NOTHING')  # noqa: S608 - identifiers of the migration
    _commit_order_triggers(schema, table)


def _commit_order_triggers(schema: str, table: str) -> None:
    """The index on ``change_txid``, its stamp on update, and the outbox's commit position on every write."""
    op.create_index(f"{table}_change_txid_idx", table, ["change_txid"], schema=schema)
    op.execute(
        f'CREATE TRIGGER {table}_change_txid BEFORE UPDATE ON "{schema}".{table} '
        f'FOR EACH ROW EXECUTE FUNCTION "{schema}".stamp_change_txid()'
    )
    op.execute(
        f'CREATE CONSTRAINT TRIGGER {table}_commit_position AFTER INSERT OR UPDATE ON "{schema}".{table} '
        f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".events_commit_position()'
    )


def drop_commit_order_sync(schema: str, table: str) -> None:
    op.execute(f'DROP TRIGGER {table}_commit_position ON "{schema}".{table}')
    op.execute(f'DROP TRIGGER {table}_change_txid ON "{schema}".{table}')
    op.drop_index(f"{table}_change_txid_idx", table_name=table, schema=schema)
    op.drop_column(table, "change_txid", schema=schema)


def create_import_jobs(schema: str) -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="workforce | regions | …"),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False, comment="the region the upload is for (scope)"),
        sa.Column("region_path", sa.String(length=12), nullable=False, comment="12-digit form, for region scoping"),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False, comment="the uploaded bytes, to mark the bad cells in"),
        sa.Column("rows_total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True, comment="why a failed job failed (not bad cells)"),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        _change_txid_column(),
        sa.CheckConstraint(
            "status IN ('queued', 'validating', 'loading', 'succeeded', 'rejected', 'failed')",
            name=op.f("import_jobs_status_check"),
        ),
        sa.CheckConstraint("mode IN ('all_or_nothing', 'good_rows')", name=op.f("import_jobs_mode_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("import_jobs_pkey")),
        schema=schema,
    )
    op.create_index(
        "import_jobs_once_idx",
        "import_jobs",
        ["region_code", "kind", "file_sha256"],
        unique=True,
        schema=schema,
        postgresql_where=sa.text("status NOT IN ('rejected', 'failed')"),
    )
    op.create_index(
        "import_jobs_region_path_idx",
        "import_jobs",
        ["region_path"],
        unique=False,
        schema=schema,
        postgresql_ops={"region_path": "text_pattern_ops"},
    )
    op.create_table(
        "import_errors",
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False, comment="sheet row number (headers are rows 1–2)"),
        sa.Column("column", sa.String(length=3), nullable=False, comment="the column letter, A …"),
        sa.Column("header", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=10), nullable=True),
        sa.Column("detail_zh", sa.String(length=300), nullable=False),
        sa.Column("detail_en", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], [f"{schema}.import_jobs.id"], name=op.f("import_errors_job_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("import_errors_pkey")),
        schema=schema,
    )
    op.execute(
        f"""
        CREATE FUNCTION "{schema}".stamp_change_txid() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_txid := {TXID};
            RETURN NEW;
        END
        $$
        """
    )
    _commit_order_triggers(schema, "import_jobs")


def drop_import_jobs(schema: str) -> None:
    op.execute(f'DROP TRIGGER import_jobs_commit_position ON "{schema}".import_jobs')
    op.execute(f'DROP TRIGGER import_jobs_change_txid ON "{schema}".import_jobs')
    op.execute(f'DROP FUNCTION "{schema}".stamp_change_txid()')
    op.drop_table("import_errors", schema=schema)
    op.drop_index("import_jobs_region_path_idx", table_name="import_jobs", schema=schema)
    op.drop_index("import_jobs_once_idx", table_name="import_jobs", schema=schema)
    op.drop_table("import_jobs", schema=schema)


# shared.events.REGION_KEYS, most specific first (a copy: a migration must not change when that code does)
REGION_FROM_PAYLOAD = (
    "coalesce(data->>'community_code', data->>'to_community', data->>'township_code', data->>'county_code', "
    "data->>'region_code', data->>'code')"
)


def add_outbox_region(schema: str) -> None:
    op.add_column(
        "events",
        sa.Column(
            "region",
            sa.String(12),
            nullable=True,
            comment="the region the event belongs to (region-scoped feeds); null: province-wide readers only",
        ),
        schema=schema,
    )
    op.execute(f'UPDATE "{schema}".events SET region = {REGION_FROM_PAYLOAD}')  # noqa: S608 - constants
    op.execute(f"""UPDATE "{schema}".events SET region = NULL WHERE region !~ '^[0-9]{{6}}([0-9]{{6}})?$'""")  # noqa: S608
    op.create_index(
        "events_region_idx", "events", ["region"], postgresql_ops={"region": "text_pattern_ops"}, schema=schema
    )


def drop_outbox_region(schema: str) -> None:
    op.drop_index("events_region_idx", table_name="events", schema=schema)
    op.drop_column("events", "region", schema=schema)
