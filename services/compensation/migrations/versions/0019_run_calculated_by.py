"""compensation: ``payroll_runs.calculated_by`` — who asked for a run's last calculation; the run is approved
by another person (separation of duties: 不相容职务分离)

Revision ID: compensation_0019
Revises: compensation_0018
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0019"
down_revision: str | None = "compensation_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"


def upgrade() -> None:
    op.add_column(
        "payroll_runs",
        sa.Column(
            "calculated_by",
            sa.String(120),
            nullable=True,
            comment="who asked for the last calculation: another person approves the run",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_column("payroll_runs", "calculated_by", schema=S)
