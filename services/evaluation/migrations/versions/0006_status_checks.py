"""evaluation: cycle and work-case statuses checked by the database too

Revision ID: evaluation_0006
Revises: evaluation_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "evaluation_0006"
down_revision: str | None = "evaluation_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_check_constraint(
        op.f("cycles_status_check"), "cycles", "status IN ('open', 'closed')", schema="evaluation"
    )
    op.create_check_constraint(
        op.f("work_cases_status_check"),
        "work_cases",
        "status IN ('submitted', 'approved', 'returned')",
        schema="evaluation",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("work_cases_status_check"), "work_cases", schema="evaluation", type_="check")
    op.drop_constraint(op.f("cycles_status_check"), "cycles", schema="evaluation", type_="check")
