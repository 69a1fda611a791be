"""Gateway tables, all in the PostgreSQL schema ``gateway``: identity, sessions, the audit log, webhooks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import GeneratedId, Timestamp
from shared.db import schema_metadata
from shared.feed_consumer import feed_cursors_table
from shared.idempotency import idempotency_table


class Base(DeclarativeBase):
    metadata = schema_metadata("gateway")


PERSONAL_DATA = "personal_data"  # the grant that unmasks personal data, beside the roles


# Idempotency-Key records of the gateway's own POSTs (CONVENTIONS: writes).
idempotency_keys = idempotency_table(Base.metadata)


class Account:
    """The columns of whoever signs in, a user or an API client: its id and name, whether it may sign in, who
    made it and when, its edit version, and its token version, bumped by a trigger (migration gateway_0004)
    when ``active`` or a grant changes (and a user's password; not a client's new secret)."""

    id: Mapped[GeneratedId] = mapped_column(sort_order=-1)  # first, as in the table
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[Timestamp]
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    token_version: Mapped[int] = mapped_column(
        Integer,
        server_default=text("1"),
        comment="access tokens carrying another version are refused at the gateway",
    )


class User(Account, Base):
    """A person who signs in: web console or mobile app."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    worker_id: Mapped[str | None] = mapped_column(String(64), comment="the roster worker this person is, if any")
    updated_at: Mapped[Timestamp]


class ApiClient(Account, Base):
    """A system that calls the API: a provincial platform, another department, one of our services."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str] = mapped_column(String(100), comment="owning department")
    secret_hash: Mapped[str] = mapped_column(String(200))
    # Set by the same trigger when secret_hash changes: the old secret stays valid for a grace period.
    previous_secret_hash: Mapped[str | None] = mapped_column(
        String(200), comment="the secret before the last rotation, valid for the rotation grace period"
    )
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Grant(Base):
    """A role (or the personal-data right) for a region, held by a user or a client."""

    __tablename__ = "grants"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (client_pk IS NULL)", name="one_holder"),)

    id: Mapped[GeneratedId]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    right: Mapped[str] = mapped_column(String(32), comment="a role, or personal_data")
    region: Mapped[str] = mapped_column(String(12))
    granted_by: Mapped[str | None] = mapped_column(String(120))
    granted_at: Mapped[Timestamp]
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """One refresh token; a sign-in starts a family, each refresh replaces the token with the next."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    family_id: Mapped[uuid.UUID] = mapped_column(UUID, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), comment="sha256 of the token's random part")
    issued_at: Mapped[Timestamp]
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by: Mapped[uuid.UUID | None] = mapped_column(UUID, comment="the token this one was rotated into")
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only (a trigger refuses UPDATE and DELETE): sign-ins, failures, role changes, unmasked reads."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("audit_events_action_subject_idx", "action", "subject", "occurred_at"),
        Index("audit_events_action_ip_idx", "action", "ip", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # clock_timestamp(), not now(): the moment of the event, not the start of its transaction.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp(), index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(12))
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class RateLimitCell(Base):
    """One rate-limit key's GCRA state, shared by every gateway replica (services.gateway.rate_limits)."""

    __tablename__ = "rate_limit_cells"
    __table_args__ = (Index("rate_limit_cells_tat_idx", "tat"),)

    key: Mapped[str] = mapped_column(String(300), primary_key=True, comment="kind:subject|limit/window")
    tat: Mapped[float] = mapped_column(
        Double, comment="theoretical arrival time, seconds since the epoch by the database's clock"
    )
    granted: Mapped[int] = mapped_column(
        Integer, server_default=text("1"), comment="admissions the last lease took (a replica's block)"
    )


# The services' change feeds the gateway follows for webhooks, and how far it has read each.
feed_cursors = feed_cursors_table(Base.metadata)


class WebhookSubscription(Base):
    """A platform's subscription: events of these types inside this region, POSTed to ``url`` (Standard
    Webhooks). Owned by the account (user or API client) that made it; only it sees and changes it."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (CheckConstraint("(owner_user_id IS NULL) <> (owner_client_pk IS NULL)", name="one_owner"),)

    id: Mapped[GeneratedId]
    owner: Mapped[str] = mapped_column(
        String(120), comment="the principal's subject, user:<id> or client:<id>", index=True
    )
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    owner_client_pk: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(100)))
    region_code: Mapped[str] = mapped_column(String(12), comment="only events inside this region are delivered")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # Sealed at rest (services/gateway/webhook_secrets.py): "fernet:<token>" of the whsec_<base64> secret.
    secret: Mapped[str] = mapped_column(String(300), comment="whsec_<base64>, sealed: signs every delivery")
    previous_secret: Mapped[str | None] = mapped_column(
        String(300), comment="the secret before the last rotation, sealed: also signs until previous_secret_until"
    )
    previous_secret_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class WebhookDelivery(Base):
    """One event for one subscription: recorded with the feed cursor that reached it, sent until the
    receiver answers 2xx or the retries run out (parked)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "source", "event_id", name="webhook_deliveries_once"),
        CheckConstraint("status IN ('pending', 'delivered', 'parked')", name="status"),
        Index("webhook_deliveries_due_idx", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("webhook_deliveries_subscription_idx", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40), comment="the service whose feed carried the event")
    event_id: Mapped[int] = mapped_column(BigInteger)
    webhook_id: Mapped[str] = mapped_column(String(80), comment="webhook-id: the same for every try of this event")
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="the body sent: the event as its feed published it")
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    status_codes: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{}'::integer[]"), comment="the receiver's answer to each try (0: none)"
    )
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[Timestamp]
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
