"""The audit log: who signed in or failed to, who changed whose roles, who read unmasked personal data.

Rows are only ever inserted (a database trigger refuses UPDATE, DELETE and TRUNCATE). A failed sign-in
is committed before the refusal is raised, so the refusal does not roll it back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import AuditEvent
from shared.request_context import current_request_id


class AuditAction(StrEnum):
    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    refresh_token_reused = "refresh_token_reused"
    session_revoked = "session_revoked"
    user_created = "user_created"
    user_updated = "user_updated"
    client_created = "client_created"
    client_secret_rotated = "client_secret_rotated"
    role_granted = "role_granted"
    role_revoked = "role_revoked"
    personal_data_read = "personal_data_read"


def audit_event(
    action: AuditAction,
    *,
    actor: str | None,
    subject: str | None = None,
    region: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent(
        action=action.value,
        actor=actor,
        subject=subject,
        region=region,
        ip=ip,
        request_id=current_request_id(),
        details=details or {},
    )


def record(session: AsyncSession, action: AuditAction, **fields: Any) -> None:
    """Add an audit row to the session's transaction: written if and only if the change is."""
    session.add(audit_event(action, **fields))
