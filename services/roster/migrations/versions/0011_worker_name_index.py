"""roster: an index for the workers list's ``name`` filter (the console's search by name)

A prefix index (``text_pattern_ops``, the database collation is not C) serves ``name LIKE '张%'``: a
surname or a full name, which is how a Chinese name is looked up. Not a pg_trgm GIN index: a trigram
index cannot serve the one- and two-character patterns most such searches are (张, 张伟: no trigram),
and the embedded runner's fallback PostgreSQL (the pip package pgserver) ships without pg_trgm.

Revision ID: roster_0011
Revises: roster_0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "roster_0011"
down_revision: str | None = "roster_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "workers_name_prefix_idx", "workers", ["name"], postgresql_ops={"name": "text_pattern_ops"}, schema="roster"
    )


def downgrade() -> None:
    op.drop_index("workers_name_prefix_idx", table_name="workers", schema="roster")
