"""compensation: ``closed_cycles`` — the townships whose annual assessment is closed (the evaluation feed's
``cycle.closed``, after every grade of the cycle); the C5 bonus is shared only once the township's is here

Revision ID: compensation_0018
Revises: compensation_0017
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "compensation_0018"
down_revision: str | None = "compensation_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"


def upgrade() -> None:
    op.create_table(
        "closed_cycles",
        sa.Column("township_code", sa.String(12), nullable=False),
        sa.Column("year", sa.SmallInteger, nullable=False),
        sa.Column("results", sa.Integer, nullable=False, comment="grades the cycle produced"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("township_code", "year"),
        schema=S,
    )
    # Grades projected before this release came with their cycles closed: their townships count as closed.
    op.execute(
        """
        INSERT INTO compensation.closed_cycles (township_code, year, results)
        SELECT w.township_code, g.year, count(*)
          FROM compensation.assessment_grades g JOIN compensation.workers w USING (worker_id)
         GROUP BY w.township_code, g.year
        """
    )


def downgrade() -> None:
    op.drop_table("closed_cycles", schema=S)
