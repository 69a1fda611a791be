"""roster: the worker's status is one of WorkerStatus's, checked by the database too

Revision ID: roster_0008
Revises: roster_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "roster_0008"
down_revision: str | None = "roster_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_check_constraint(
        op.f("workers_status_check"),
        "workers",
        "status IN ('pending', 'probation', 'active', 'on_loan', 'left')",
        schema="roster",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("workers_status_check"), "workers", schema="roster", type_="check")
