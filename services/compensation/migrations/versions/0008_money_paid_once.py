"""compensation: a bonus allocation is live once per township and year, replacements reverse the earlier
one and keep it (C5 ledger); recuperation claims keep the amount asked and the amount allowed with the
reasons (C10)

Revision ID: compensation_0008
Revises: compensation_0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "compensation_0008"
down_revision: str | None = "compensation_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "compensation"


def upgrade() -> None:
    # C5 ledger: the allocation a replacement reversed, and the reversal of the one replaced.
    op.add_column(
        "bonus_allocations",
        sa.Column("replaces", UUID, comment="the allocation this one replaced and reversed (C5)"),
        schema=S,
    )
    op.create_foreign_key(
        op.f("bonus_allocations_replaces_fkey"),
        "bonus_allocations",
        "bonus_allocations",
        ["replaces"],
        ["id"],
        source_schema=S,
        referent_schema=S,
    )
    op.add_column(
        "bonus_allocations",
        sa.Column("reason", sa.String(300), comment="why it replaced the earlier allocation"),
        schema=S,
    )
    op.add_column(
        "bonus_allocations",
        sa.Column(
            "replaced_by", UUID, comment="the allocation that replaced this one; NULL while it is the live one (C5)"
        ),
        schema=S,
    )
    op.add_column(
        "bonus_allocations",
        sa.Column(
            "reversed_at",
            sa.DateTime(timezone=True),
            comment="when a replacement reversed it; NULL while it is the live one",
        ),
        schema=S,
    )
    op.add_column("bonus_allocations", sa.Column("reversed_by", sa.String(120), comment="who replaced it"), schema=S)
    # Allocations posted twice before this revision: the latest of a township and year stays live, the
    # earlier ones are reversed by it (they were paid twice; the ledger now says which one counts).
    op.execute(
        """
        UPDATE compensation.bonus_allocations a
        SET reversed_at = now(), reversed_by = 'migration compensation_0008', replaced_by = latest.id
        FROM (SELECT DISTINCT ON (township_code, year) id, township_code, year
              FROM compensation.bonus_allocations ORDER BY township_code, year, created_at DESC, id DESC) latest
        WHERE a.township_code = latest.township_code AND a.year = latest.year AND a.id <> latest.id
        """
    )
    op.create_check_constraint(
        op.f("bonus_allocations_reversal_check"),
        "bonus_allocations",
        "(reversed_at IS NULL) = (replaced_by IS NULL)",
        schema=S,
    )
    op.create_index(
        "bonus_allocations_live_key",
        "bonus_allocations",
        ["township_code", "year"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("reversed_at IS NULL"),
    )

    # C10: the amount asked and the amount allowed side by side; existing claims were allowed as asked.
    op.alter_column(
        "recuperation_claims",
        "amount",
        new_column_name="amount_allowed",
        comment="what the caps allow (C10); counts to the year",
        schema=S,
    )
    op.add_column(
        "recuperation_claims",
        sa.Column("amount_requested", sa.Numeric(12, 2), comment="the cost claimed"),
        schema=S,
    )
    op.execute("UPDATE compensation.recuperation_claims SET amount_requested = amount_allowed")
    op.alter_column("recuperation_claims", "amount_requested", nullable=False, schema=S)
    op.add_column(
        "recuperation_claims",
        sa.Column(
            "reductions",
            JSONB,
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
            comment="why less was allowed than asked: rule, code, zh, en (C10)",
        ),
        schema=S,
    )
    op.add_column(
        "recuperation_claims",
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema=S,
    )
    op.create_check_constraint(
        op.f("recuperation_claims_amounts_check"),
        "recuperation_claims",
        "amount_allowed > 0 AND amount_allowed <= amount_requested",
        schema=S,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("recuperation_claims_amounts_check"), "recuperation_claims", schema=S, type_="check")
    op.drop_column("recuperation_claims", "created_at", schema=S)
    op.drop_column("recuperation_claims", "reductions", schema=S)
    op.drop_column("recuperation_claims", "amount_requested", schema=S)
    op.alter_column("recuperation_claims", "amount_allowed", new_column_name="amount", comment=None, schema=S)
    op.drop_index("bonus_allocations_live_key", "bonus_allocations", schema=S)
    op.drop_constraint(op.f("bonus_allocations_reversal_check"), "bonus_allocations", schema=S, type_="check")
    op.drop_column("bonus_allocations", "reversed_by", schema=S)
    op.drop_column("bonus_allocations", "reversed_at", schema=S)
    op.drop_column("bonus_allocations", "replaced_by", schema=S)
    op.drop_column("bonus_allocations", "reason", schema=S)
    op.drop_constraint(op.f("bonus_allocations_replaces_fkey"), "bonus_allocations", schema=S, type_="foreignkey")
    op.drop_column("bonus_allocations", "replaces", schema=S)
