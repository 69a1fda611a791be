"""compensation: payslips without the foreign key to payroll_runs (its per-row trigger slows bulk payroll)

Revision ID: compensation_0006
Revises: compensation_0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "compensation_0006"
down_revision: str | None = "compensation_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("payslips_run_id_fkey", "payslips", schema="compensation", type_="foreignkey")


def downgrade() -> None:
    op.create_foreign_key(
        "payslips_run_id_fkey",
        "payslips",
        "payroll_runs",
        ["run_id"],
        ["id"],
        source_schema="compensation",
        referent_schema="compensation",
        ondelete="CASCADE",
    )
