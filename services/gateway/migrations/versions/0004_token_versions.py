"""gateway: token versions, a client's previous secret, refresh-token successors

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-24

Triggers, not application code, bump a holder's ``token_version`` whenever what its access tokens say
could have become untrue (a user disabled or re-enabled, a password changed, a grant added, revoked or
removed; a client disabled or its grants changed), and keep a client's previous secret hash when its
secret is replaced. Every path that changes these rows (the admin API, the bootstrap, a DBA at psql)
thus revokes the tokens, and none can forget to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0004"
down_revision: str | None = "gateway_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "token_version",
            sa.Integer(),
            server_default=sa.text("1"),
            nullable=False,
            comment="access tokens carrying another version are refused at the gateway",
        ),
        schema="gateway",
    )
    op.add_column(
        "api_clients",
        sa.Column(
            "token_version",
            sa.Integer(),
            server_default=sa.text("1"),
            nullable=False,
            comment="access tokens carrying another version are refused at the gateway",
        ),
        schema="gateway",
    )
    op.add_column(
        "api_clients",
        sa.Column(
            "previous_secret_hash",
            sa.String(length=200),
            nullable=True,
            comment="the secret before the last rotation, valid for the rotation grace period",
        ),
        schema="gateway",
    )
    op.add_column(
        "api_clients",
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        schema="gateway",
    )
    op.add_column(
        "refresh_tokens",
        sa.Column("replaced_by", sa.UUID(), nullable=True, comment="the token this one was rotated into"),
        schema="gateway",
    )
    op.execute(
        """
        CREATE FUNCTION gateway.users_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.active IS DISTINCT FROM OLD.active OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
                NEW.token_version := OLD.token_version + 1;
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER users_token_version BEFORE UPDATE ON gateway.users "
        "FOR EACH ROW EXECUTE FUNCTION gateway.users_token_version()"
    )
    op.execute(
        """
        CREATE FUNCTION gateway.api_clients_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.active IS DISTINCT FROM OLD.active THEN
                NEW.token_version := OLD.token_version + 1;
            END IF;
            IF NEW.secret_hash IS DISTINCT FROM OLD.secret_hash THEN
                NEW.previous_secret_hash := OLD.secret_hash;
                NEW.secret_rotated_at := clock_timestamp();
            END IF;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER api_clients_token_version BEFORE UPDATE ON gateway.api_clients "
        "FOR EACH ROW EXECUTE FUNCTION gateway.api_clients_token_version()"
    )
    op.execute(
        """
        CREATE FUNCTION gateway.grants_token_version() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            changed gateway.grants;
        BEGIN
            changed := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            IF TG_OP = 'UPDATE' AND NEW.revoked_at IS NOT DISTINCT FROM OLD.revoked_at
               AND NEW."right" IS NOT DISTINCT FROM OLD."right" AND NEW.region IS NOT DISTINCT FROM OLD.region THEN
                RETURN NULL;
            END IF;
            IF changed.user_id IS NOT NULL THEN
                UPDATE gateway.users SET token_version = token_version + 1 WHERE id = changed.user_id;
            ELSE
                UPDATE gateway.api_clients SET token_version = token_version + 1 WHERE id = changed.client_pk;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER grants_token_version AFTER INSERT OR UPDATE OR DELETE ON gateway.grants "
        "FOR EACH ROW EXECUTE FUNCTION gateway.grants_token_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER grants_token_version ON gateway.grants")
    op.execute("DROP FUNCTION gateway.grants_token_version()")
    op.execute("DROP TRIGGER api_clients_token_version ON gateway.api_clients")
    op.execute("DROP FUNCTION gateway.api_clients_token_version()")
    op.execute("DROP TRIGGER users_token_version ON gateway.users")
    op.execute("DROP FUNCTION gateway.users_token_version()")
    op.drop_column("refresh_tokens", "replaced_by", schema="gateway")
    op.drop_column("api_clients", "secret_rotated_at", schema="gateway")
    op.drop_column("api_clients", "previous_secret_hash", schema="gateway")
    op.drop_column("api_clients", "token_version", schema="gateway")
    op.drop_column("users", "token_version", schema="gateway")
