"""Access tokens (short-lived EdDSA JWTs) and refresh tokens (opaque, rotated, revocable).

A refresh token is ``<id>.<secret>``; only the SHA-256 of the secret is stored (it is 256 random bits,
so a fast hash is enough). Each use replaces it with the next token of the same family. A token used a
second time means it was copied: the whole family is revoked (RFC 9700 §4.14.2, refresh token rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.keys import SigningKeys
from services.gateway.models import ApiClient, Grant, RefreshToken, User
from shared.auth import ALGORITHM, AUDIENCE, ISSUER, Principal, Role, principal_claims
from shared.auth import Grant as RoleGrant

PERSONAL_DATA = "personal_data"


def issue_access_token(keys: SigningKeys, principal: Principal, ttl_seconds: int) -> str:
    kid, key = keys.current()
    now = int(time.time())
    claims = principal_claims(principal) | {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


async def active_grants(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, client_pk: uuid.UUID | None = None
) -> list[Grant]:
    query = select(Grant).where(Grant.revoked_at.is_(None)).order_by(Grant.granted_at, Grant.id)
    query = query.where(Grant.user_id == user_id) if user_id else query.where(Grant.client_pk == client_pk)
    return list((await session.scalars(query)).all())


async def active_grants_of_users(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Grant]]:
    """The active grants of many users in one query (a page of the admin API)."""
    query = (
        select(Grant)
        .where(Grant.revoked_at.is_(None), Grant.user_id.in_(user_ids))
        .order_by(Grant.granted_at, Grant.id)
    )
    out: dict[uuid.UUID, list[Grant]] = {user_id: [] for user_id in user_ids}
    for grant in (await session.scalars(query)).all():
        assert grant.user_id is not None
        out[grant.user_id].append(grant)
    return out


def principal_of(subject: str, name: str, grants: list[Grant], worker_id: str | None = None) -> Principal:
    roles = tuple(RoleGrant(Role(g.right), g.region) for g in grants if g.right != PERSONAL_DATA)
    personal = tuple(sorted({g.region for g in grants if g.right == PERSONAL_DATA}))
    return Principal(subject=subject, name=name, grants=roles, personal_data_regions=personal, worker_id=worker_id)


async def user_principal(session: AsyncSession, user: User) -> Principal:
    grants = await active_grants(session, user_id=user.id)
    return principal_of(f"user:{user.id}", user.name, grants, user.worker_id)


async def client_principal(session: AsyncSession, client: ApiClient) -> Principal:
    grants = await active_grants(session, client_pk=client.id)
    return principal_of(f"client:{client.client_id}", client.name, grants)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def new_refresh_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    ttl_seconds: int,
    *,
    family_id: uuid.UUID | None = None,
    user_agent: str | None = None,
    ip: str | None = None,
) -> str:
    token_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=token_id,
            family_id=family_id or uuid.uuid4(),
            user_id=user_id,
            secret_hash=_hash(secret),
            expires_at=_now() + timedelta(seconds=ttl_seconds),
            user_agent=(user_agent or "")[:300] or None,
            ip=ip,
        )
    )
    await session.flush()
    return f"{token_id}.{secret}"


@dataclass
class Rotation:
    """The outcome of presenting a refresh token."""

    token: RefreshToken | None
    reused: bool = False


async def find_refresh_token(session: AsyncSession, presented: str) -> RefreshToken | None:
    token_id, _, secret = presented.partition(".")
    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        return None
    token: RefreshToken | None = await session.scalar(
        select(RefreshToken).where(RefreshToken.id == parsed).with_for_update()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    return token


async def use_refresh_token(session: AsyncSession, presented: str) -> Rotation:
    """Mark a valid token used; a token used before revokes its family and is reported as reuse."""
    token = await find_refresh_token(session, presented)
    if token is None or token.revoked_at is not None or token.expires_at <= _now():
        return Rotation(None)
    if token.used_at is not None:
        await revoke_family(session, token.family_id)
        return Rotation(token, reused=True)
    token.used_at = _now()
    await session.flush()
    return Rotation(token)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
