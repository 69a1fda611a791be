"""Access tokens (short-lived EdDSA JWTs) and refresh tokens (opaque, rotated, revocable).

An access token carries its holder's ``token_version`` (claim ``ver``). The version is bumped, by
triggers of migration ``gateway_0004``, when the holder is disabled, its password or grants change, and
by :func:`revoke_user_sessions` (sign out everywhere); the gateway refuses a token whose version is no
longer the holder's (:mod:`services.gateway.revocation`). A token without the claim was issued before
versions existed, under version 1.

A refresh token is ``<id>.<secret>``; only the SHA-256 of the secret is stored (it is 256 random bits,
so a fast hash is enough). Each use replaces it with the next token of the same family. A token used a
second time means it was copied: the whole family is revoked (RFC 9700 §4.14.2, refresh token rotation)
— unless it comes back within ``refresh_token_reuse_grace_seconds`` of its use while its successor is
still unused: a phone whose answer was lost on a flaky network retries, and gets that same successor
again. The successor's secret is derived from the presented secret (HMAC keyed by it), so it can be
given again without being stored; only someone holding the old token can derive it, and only while
the grace lasts is it handed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.keys import SigningKeys
from services.gateway.models import ApiClient, Grant, RefreshToken, User
from services.gateway.passwords import SecretHasher
from shared.auth import ALGORITHM, AUDIENCE, ISSUER, Principal, Role, principal_claims
from shared.auth import Grant as RoleGrant

PERSONAL_DATA = "personal_data"


TOKEN_VERSION_CLAIM = "ver"


def issue_access_token(
    keys: SigningKeys, principal: Principal, ttl_seconds: int, *, token_version: int | None = None
) -> str:
    """Sign an access token; ``token_version`` is the holder's, read before its grants were."""
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
    if token_version is not None:
        claims[TOKEN_VERSION_CLAIM] = token_version
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


async def active_grants(
    session: AsyncSession, *, user_id: uuid.UUID | None = None, client_pk: uuid.UUID | None = None
) -> list[Grant]:
    query = select(Grant).where(Grant.revoked_at.is_(None)).order_by(Grant.granted_at, Grant.id)
    query = query.where(Grant.user_id == user_id) if user_id else query.where(Grant.client_pk == client_pk)
    return list((await session.scalars(query)).all())


async def active_grants_of_users(session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Grant]]:
    """The active grants of many users in one query (a page of the admin API)."""
    return await _active_grants_of(session, Grant.user_id, user_ids)


async def active_grants_of_clients(session: AsyncSession, client_pks: list[uuid.UUID]) -> dict[uuid.UUID, list[Grant]]:
    """The active grants of many API clients in one query."""
    return await _active_grants_of(session, Grant.client_pk, client_pks)


async def _active_grants_of(session: AsyncSession, holder: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Grant]]:
    query = select(Grant).where(Grant.revoked_at.is_(None), holder.in_(ids)).order_by(Grant.granted_at, Grant.id)
    out: dict[uuid.UUID, list[Grant]] = {holder_id: [] for holder_id in ids}
    for grant in (await session.scalars(query)).all():
        out[getattr(grant, holder.key)].append(grant)
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


def _successor_secret(predecessor_secret: str, successor_id: uuid.UUID) -> str:
    digest = hmac.new(predecessor_secret.encode(), b"shegong-refresh-successor:" + successor_id.bytes, "sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


async def new_refresh_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    ttl_seconds: int,
    *,
    family_id: uuid.UUID | None = None,
    predecessor_secret: str | None = None,
    user_agent: str | None = None,
    ip: str | None = None,
) -> tuple[RefreshToken, str]:
    """Add a refresh token; returns it and the ``<id>.<secret>`` to give (the secret is not stored)."""
    token_id = uuid.uuid4()
    secret = _successor_secret(predecessor_secret, token_id) if predecessor_secret else secrets.token_urlsafe(32)
    token = RefreshToken(
        id=token_id,
        family_id=family_id or uuid.uuid4(),
        user_id=user_id,
        secret_hash=_hash(secret),
        expires_at=_now() + timedelta(seconds=ttl_seconds),
        user_agent=(user_agent or "")[:300] or None,
        ip=ip,
    )
    session.add(token)
    await session.flush()
    return token, f"{token_id}.{secret}"


@dataclass
class Rotation:
    """The outcome of presenting a refresh token: its successor, or a refusal (``reused``: family revoked)."""

    token: RefreshToken | None
    successor: str | None = None
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


async def rotate_refresh_token(
    session: AsyncSession,
    presented: str,
    *,
    ttl_seconds: int,
    reuse_grace_seconds: float,
    user_agent: str | None = None,
    ip: str | None = None,
) -> Rotation:
    """Replace a valid refresh token with its successor (the same one again within the reuse grace).

    A token used before, outside the grace or after its successor was itself used, revokes its family
    and is reported as reuse. The row lock on the presented token serialises concurrent retries.
    """
    token = await find_refresh_token(session, presented)
    now = _now()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return Rotation(None)
    secret = presented.partition(".")[2]
    if token.used_at is None:
        token.used_at = now
        successor, given = await new_refresh_token(
            session,
            token.user_id,
            ttl_seconds,
            family_id=token.family_id,
            predecessor_secret=secret,
            user_agent=user_agent,
            ip=ip,
        )
        token.replaced_by = successor.id
        await session.flush()
        return Rotation(token, successor=given)
    if token.replaced_by is not None and now - token.used_at <= timedelta(seconds=reuse_grace_seconds):
        again: RefreshToken | None = await session.scalar(
            select(RefreshToken).where(RefreshToken.id == token.replaced_by).with_for_update()
        )
        if again is not None and again.used_at is None and again.revoked_at is None and again.expires_at > now:
            return Rotation(token, successor=f"{again.id}.{_successor_secret(secret, again.id)}")
    await revoke_family(session, token.family_id)
    return Rotation(token, reused=True)


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> int:
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """End every session of a user: refresh tokens revoked, access tokens refused (version bumped)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    await session.execute(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))


def client_secret_matches(hasher: SecretHasher, client: ApiClient | None, secret: str, grace_seconds: int) -> bool:
    """The client's secret, or its previous one within ``grace_seconds`` of the rotation that replaced it.

    Rotation with no outage: the client keeps signing in with the old secret until it is given the
    new one. Rotating twice in a row ends the first secret at once (an emergency: a leaked secret).
    """
    if hasher.verify(client.secret_hash if client else None, secret):
        return True
    if client is None or client.previous_secret_hash is None or client.secret_rotated_at is None:
        return False
    if _now() - client.secret_rotated_at > timedelta(seconds=grace_seconds):
        return False
    return hasher.verify(client.previous_secret_hash, secret)
