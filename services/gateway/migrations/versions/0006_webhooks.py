"""gateway: webhook subscriptions and deliveries, and the cursors of the feeds they are fed from

Revision ID: gateway_0006
Revises: gateway_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "gateway_0006"
down_revision: str | None = "gateway_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "feed_cursors",
        sa.Column("source", sa.String(40), nullable=False, comment="the service whose feed this is"),
        sa.Column("cursor", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("feed_cursors_pkey")),
        schema=SCHEMA,
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False, comment="the principal's subject, user:<id> or client:<id>"),
        sa.Column("owner_user_id", sa.UUID(), nullable=True),
        sa.Column("owner_client_pk", sa.UUID(), nullable=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(100)), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False, comment="only events inside this region are delivered"),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False, comment="whsec_<base64>: signs every delivery"),
        sa.Column(
            "previous_secret",
            sa.String(100),
            nullable=True,
            comment="the secret before the last rotation: also signs until previous_secret_until",
        ),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint(
            "(owner_user_id IS NULL) <> (owner_client_pk IS NULL)", name=op.f("webhook_subscriptions_one_owner_check")
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            [f"{SCHEMA}.users.id"],
            name=op.f("webhook_subscriptions_owner_user_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_client_pk"],
            [f"{SCHEMA}.api_clients.id"],
            name=op.f("webhook_subscriptions_owner_client_pk_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("webhook_subscriptions_pkey")),
        schema=SCHEMA,
    )
    op.create_index("webhook_subscriptions_owner_idx", "webhook_subscriptions", ["owner"], schema=SCHEMA)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False, comment="the service whose feed carried the event"),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "webhook_id", sa.String(80), nullable=False, comment="webhook-id: the same for every try of this event"
        ),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the body sent: the event as its feed published it",
        ),
        sa.Column("status", sa.String(20), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "status_codes",
            postgresql.ARRAY(sa.Integer()),
            server_default=sa.text("'{}'::integer[]"),
            nullable=False,
            comment="the receiver's answer to each try (0: none)",
        ),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'parked')", name=op.f("webhook_deliveries_status_check")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            [f"{SCHEMA}.webhook_subscriptions.id"],
            name=op.f("webhook_deliveries_subscription_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("webhook_deliveries_pkey")),
        sa.UniqueConstraint("subscription_id", "source", "event_id", name="webhook_deliveries_once"),
        schema=SCHEMA,
    )
    op.create_index(
        "webhook_deliveries_due_idx",
        "webhook_deliveries",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "webhook_deliveries_subscription_idx", "webhook_deliveries", ["subscription_id", "id"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries", schema=SCHEMA)
    op.drop_table("webhook_subscriptions", schema=SCHEMA)
    op.drop_table("feed_cursors", schema=SCHEMA)
