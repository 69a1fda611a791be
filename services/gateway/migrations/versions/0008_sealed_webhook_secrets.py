"""gateway: webhook secrets are sealed at rest (``fernet:<token>``, services/gateway/webhook_secrets.py), longer
than the secrets as they were: the columns widen. The gateway seals the secrets already stored when it starts
(it holds the key; a migration does not).

Revision ID: gateway_0008
Revises: gateway_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0008"
down_revision: str | None = "gateway_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = "gateway"
COMMENTS = {
    "secret": ("whsec_<base64>: signs every delivery", "whsec_<base64>, sealed: signs every delivery"),
    "previous_secret": (
        "the secret before the last rotation: also signs until previous_secret_until",
        "the secret before the last rotation, sealed: also signs until previous_secret_until",
    ),
}


def upgrade() -> None:
    for column, (before, after) in COMMENTS.items():
        op.alter_column(
            "webhook_subscriptions",
            column,
            type_=sa.String(300),
            existing_type=sa.String(100),
            comment=after,
            existing_comment=before,
            schema=S,
        )


def downgrade() -> None:
    # Sealed secrets do not fit the narrower columns: a downgrade needs them unsealed first (not done here).
    for column, (before, after) in COMMENTS.items():
        op.alter_column(
            "webhook_subscriptions",
            column,
            type_=sa.String(100),
            existing_type=sa.String(300),
            comment=before,
            existing_comment=after,
            schema=S,
        )
