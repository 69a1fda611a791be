"""Ending sessions, each audited as ``session_revoked``: one session (a refresh-token family: the holder's
RFC 7009 revocation, an administrator's end of a session) or every session of a user (sign out everywhere)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import tokens
from services.gateway.audit import AuditAction, record
from shared.auth import Principal
from shared.i18n import Message
from shared.problems import Forbidden


async def end_session(
    session: AsyncSession,
    family_id: uuid.UUID,
    *,
    actor: str,
    user_id: uuid.UUID,
    region: str | None = None,
    ip: str | None = None,
) -> None:
    """The session's refresh token stops working at once (its access token expires on its own)."""
    await tokens.revoke_family(session, family_id)
    details = {"family_id": str(family_id)}
    record(
        session,
        AuditAction.session_revoked,
        actor=actor,
        subject=f"user:{user_id}",
        region=region,
        ip=ip,
        details=details,
    )


async def revoke_refresh_token(session: AsyncSession, presented: str, ip: str | None) -> None:
    """RFC 7009: the presented refresh token's whole session ends; a token that is not one does nothing."""
    found = await tokens.find_refresh_token(session, presented)
    if found is not None:
        await end_session(session, found.family_id, actor=f"user:{found.user_id}", user_id=found.user_id, ip=ip)


async def sign_out_everywhere(session: AsyncSession, principal: Principal, ip: str | None) -> None:
    """Every session of the calling user ends and its access tokens are refused (token version bumped)."""
    kind, _, ident = principal.subject.partition(":")
    if kind != "user":
        raise Forbidden(Message("仅用于用户账号", "For user accounts only"))
    await tokens.revoke_user_sessions(session, uuid.UUID(ident))
    subject = principal.subject
    record(session, AuditAction.session_revoked, actor=subject, subject=subject, ip=ip, details={"all": True})
