"""evaluation: import jobs and their bad cells (issue #13, bulk import; the shape is shared.import_jobs)

Revision ID: evaluation_0008
Revises: evaluation_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from shared.migration_ops import create_import_jobs, drop_import_jobs

revision: str = "evaluation_0008"
down_revision: str | None = "evaluation_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "evaluation"


def upgrade() -> None:
    create_import_jobs(SCHEMA)


def downgrade() -> None:
    drop_import_jobs(SCHEMA)
