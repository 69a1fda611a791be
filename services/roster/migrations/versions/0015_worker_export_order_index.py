"""roster: an index in the workforce export's order (community path, hire date, ID number, id)

The workforce export (``GET /v1/workforce.csv|xlsx``) reads the workers 2,000 at a time by keyset over that
order; without an index each batch sorted the whole scope to take its next 2,000 (a province's export
scanned the province once a batch).

Revision ID: roster_0015
Revises: roster_0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "roster_0015"
down_revision: str | None = "roster_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "workers_export_order_idx",
        "workers",
        ["community_path", "hire_date", "id_number", "id"],
        schema="roster",
    )


def downgrade() -> None:
    op.drop_index("workers_export_order_idx", table_name="workers", schema="roster")
