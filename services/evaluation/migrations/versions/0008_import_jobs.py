"""evaluation: import jobs and their bad cells (issue #13, bulk import; the shape is shared.import_jobs)

Revision ID: evaluation_0008
Revises: evaluation_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "evaluation_0008"
down_revision: str | None = "evaluation_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"
TXID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
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
        sa.Column(
            "change_txid",
            sa.BigInteger(),
            server_default=sa.text(TXID),
            nullable=False,
            comment="the transaction that last wrote the row (pull sync)",
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'validating', 'loading', 'succeeded', 'rejected', 'failed')",
            name=op.f("import_jobs_status_check"),
        ),
        sa.CheckConstraint("mode IN ('all_or_nothing', 'good_rows')", name=op.f("import_jobs_mode_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("import_jobs_pkey")),
        schema="evaluation",
    )
    op.create_index(
        "import_jobs_once_idx",
        "import_jobs",
        ["region_code", "kind", "file_sha256"],
        unique=True,
        schema="evaluation",
        postgresql_where=sa.text("status NOT IN ('rejected', 'failed')"),
    )
    op.create_index(
        "import_jobs_region_path_idx",
        "import_jobs",
        ["region_path"],
        unique=False,
        schema="evaluation",
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
            ["job_id"], ["evaluation.import_jobs.id"], name=op.f("import_errors_job_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("import_errors_pkey")),
        schema="evaluation",
    )
    _sync_in_commit_order("import_jobs", create_function=True)


def _sync_in_commit_order(table: str, *, create_function: bool) -> None:
    """Pull sync of ``table`` (shared/sync.py): its change_txid stamped on update, and the outbox's
    commit-position trigger on every write (as roster_0009 did for workers)."""
    if create_function:
        op.execute(
            f"""
            CREATE FUNCTION "{SCHEMA}".stamp_change_txid() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.change_txid := {TXID};
                RETURN NEW;
            END
            $$
            """
        )
    op.create_index(f"{table}_change_txid_idx", table, ["change_txid"], schema=SCHEMA)
    op.execute(
        f"""
        CREATE TRIGGER {table}_change_txid BEFORE UPDATE ON "{SCHEMA}".{table}
        FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".stamp_change_txid()
        """
    )
    op.execute(
        f"""
        CREATE CONSTRAINT TRIGGER {table}_commit_position AFTER INSERT OR UPDATE ON "{SCHEMA}".{table}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{SCHEMA}".events_commit_position()
        """
    )


def downgrade() -> None:
    op.execute(f'DROP TRIGGER import_jobs_commit_position ON "{SCHEMA}".import_jobs')
    op.execute(f'DROP TRIGGER import_jobs_change_txid ON "{SCHEMA}".import_jobs')
    op.execute(f'DROP FUNCTION "{SCHEMA}".stamp_change_txid()')
    op.drop_table("import_errors", schema="evaluation")
    op.drop_index("import_jobs_region_path_idx", table_name="import_jobs", schema="evaluation")
    op.drop_index("import_jobs_once_idx", table_name="import_jobs", schema="evaluation")
    op.drop_table("import_jobs", schema="evaluation")
