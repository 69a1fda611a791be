"""Administration of accounts as use cases: users, API clients, their grants and sessions (AC1–AC4).

Scoped like everything else: an admin sees an account when one of its grants lies in the admin's region and
manages it when all of them do (``services.gateway.admin_scope``); accounts outside are 404. Every change is
audited (``services.gateway.audit``). The router (``api/identity.py``) parses, authorises and answers."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import admin_scope, schemas, sign_out, tokens
from services.gateway.audit import AuditAction, record
from services.gateway.models import PERSONAL_DATA, ApiClient, Grant, RefreshToken, User
from services.gateway.passwords import SecretHasher
from shared.auth import ADMIN_ROLES, Principal
from shared.i18n import Message
from shared.masking import mask_phone
from shared.pagination import Page, PageAt, decode_cursor, encode_cursor, fetch_page
from shared.problems import Conflict, FieldError, Forbidden, NotFound, Problem, UnprocessableContent
from shared.read_models import from_row
from shared.regions import contains, scope_prefix

NOT_FOUND_USER = Message("用户不存在", "No such user")
NOT_FOUND_CLIENT = Message("客户端不存在", "No such client")
CommunityOf = Callable[[uuid.UUID], Awaitable[str | None]]  # the roster's community of a worker, or None


def grant_out(grant: Grant) -> schemas.GrantOut:
    return from_row(schemas.GrantOut, grant)


def check_grants(admin: Principal, grants: list[schemas.GrantIn], pointer: str = "/body/grants") -> None:
    """Every requested grant is a known right, at the right level (422), and one the admin may give (403, AC2)."""
    errors: list[FieldError] = []
    refused: list[FieldError] = []
    for index, grant in enumerate(grants):
        at = f"{pointer}/{index}" if pointer.endswith("grants") else pointer
        if grant.right not in admin_scope.GRANTABLE:
            errors.append(
                FieldError.of(
                    "right",
                    Message(f"未知的权限：{grant.right}", f"unknown right: {grant.right}"),
                    pointer=at + "/right",
                    type="enum",
                )
            )
        elif not admin_scope.fits_level(grant.right, grant.region):
            errors.append(
                FieldError.of(
                    "region",
                    Message(
                        f"{grant.right} 不在 {grant.region} 这一级授予",
                        f"{grant.right} is granted at another level of the region tree than {grant.region}",
                    ),
                    pointer=at + "/region",
                    type="region_level",
                )
            )
        elif not admin_scope.may_grant(admin, grant.right, grant.region):
            refused.append(
                FieldError.of(
                    "grants",
                    Message(
                        f"{grant.right}@{grant.region} 超出本账号可授予的范围：只能在本辖区内授予本账号持有的权限",
                        f"{grant.right}@{grant.region} is outside what this account may grant: "
                        "only rights it holds, only inside its own region",
                    ),
                    pointer=at,
                    rule=admin_scope.RULE_GRANT_HELD,
                    type="grant_not_allowed",
                )
            )
    if errors:
        raise UnprocessableContent(
            Message("授权不合规：{count} 项", "Grants not valid: {count}"), errors=errors, count=len(errors)
        )
    if refused:
        raise Forbidden(
            Message(
                "无权授予：{count} 项（只能在本辖区内授予本账号持有的权限）",
                "Grants not allowed: {count} (an administrator grants only rights it holds, inside its region)",
            ),
            rule=admin_scope.RULE_GRANT_HELD,
            errors=refused,
            count=len(refused),
        )


def not_self(admin: Principal, user_id: uuid.UUID) -> None:
    """AC3: no administrator widens its own account."""
    if admin_scope.is_self(admin, user_id):
        raise Forbidden(
            Message("不能给自己授权", "An administrator cannot grant rights to its own account"),
            rule=admin_scope.RULE_NOT_SELF,
        )


READ_ONLY_ACCOUNT = Message(
    "只读：该账号持有本账号无权授予的权限（辖区外、更高角色或本账号没有的权限）",
    "Read-only: this account holds rights this administrator could not grant "
    "(outside its region, a wider role, or a right it does not hold)",
)


def managed(admin: Principal, grants: list[Grant]) -> None:
    """AC4: 403 for a visible account the admin may not change."""
    if not admin_scope.manages(admin, [(g.right, g.region) for g in grants]):
        raise Forbidden(READ_ONLY_ACCOUNT, rule=admin_scope.RULE_READ_ONLY_ABOVE)


def _worker_refused(kind: type[Problem], detail: Message, why: Message, error_type: str, **params: Any) -> Problem:
    """AC1 refuses the worker bound to an account: ``kind`` with ``detail``, its ``worker_id`` error saying ``why``."""
    rule = admin_scope.RULE_OBJECT_SCOPE
    errors = [FieldError.of("worker_id", why, rule=rule, type=error_type)]
    return kind(detail, rule=rule, errors=errors, **params)


async def check_worker(
    community_of: CommunityOf, admin: Principal, worker_id: uuid.UUID, grants: list[tuple[str, str]]
) -> None:
    """AC1: the worker bound to an account is one of the admin's region, inside one of the account's grants.

    The roster is asked (``worker_lookup``); a worker it does not know, or of another region, is 404.
    """
    community = await community_of(worker_id)
    if community is None or not admin_scope.sees(admin, [community]):
        raise _worker_refused(
            NotFound,
            Message("社工不存在：{id}", "No such worker: {id}"),
            Message("本辖区没有该社工", "No such worker in this administrator's region"),
            "not_found",
            id=str(worker_id),
        )
    if not any(right != PERSONAL_DATA and contains(region, community) for right, region in grants):
        raise _worker_refused(
            UnprocessableContent,
            Message("社工所在社区不在该账号的授权范围内", "The worker's community lies outside the account's grants"),
            Message(
                f"社工在 {community}，该账号没有覆盖它的角色授权",
                f"the worker works in {community}, which no role grant of the account covers",
            ),
            "worker_outside_grants",
        )


def add_grants(
    session: AsyncSession, admin: Principal, grants: list[schemas.GrantIn], **holder: uuid.UUID
) -> list[Grant]:
    rows = [Grant(right=g.right, region=g.region, granted_by=admin.subject, **holder) for g in grants]
    session.add_all(rows)
    for grant in grants:
        record(
            session,
            AuditAction.role_granted,
            actor=admin.subject,
            subject=f"{'user' if 'user_id' in holder else 'client'}:{next(iter(holder.values()))}",
            region=grant.region,
            details={"right": grant.right},
        )
    return rows


async def _added(session: AsyncSession, account: User | ApiClient, taken: Conflict) -> None:
    """The new account stored; ``taken`` (409) when its name is another's already (the unique key decides)."""
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise taken from exc


def _region_of(grants: list[Grant]) -> str | None:
    """The region an account's audit records are filed under: that of its first grant."""
    return grants[0].region if grants else None


def _audit_user(
    session: AsyncSession,
    admin: Principal,
    action: AuditAction,
    user_id: uuid.UUID,
    grants: list[Grant],
    **details: Any,
) -> None:
    """An administrator's act on a user account, audited under the account's region."""
    record(session, action, actor=admin.subject, subject=f"user:{user_id}", region=_region_of(grants), details=details)


async def visible_user(session: AsyncSession, admin: Principal, user_id: uuid.UUID) -> tuple[User, list[Grant]]:
    user = await session.get(User, user_id)
    grants = await tokens.active_grants(session, user_id=user_id) if user else []
    if user is None or not admin_scope.sees(admin, [g.region for g in grants]):
        raise NotFound(NOT_FOUND_USER)
    return user, grants


def user_out(user: User, grants: list[Grant], *, unmask: bool = False) -> schemas.UserOut:
    phone = user.phone if unmask else mask_phone(user.phone)
    return from_row(schemas.UserOut, user, phone=phone, grants=[grant_out(g) for g in grants])


def in_scope(admin: Principal) -> ColumnElement[bool]:
    """SQL condition: the grant lies in one of the admin's regions."""
    return or_(*(Grant.region.startswith(scope_prefix(region)) for region in admin.regions(ADMIN_ROLES)))


async def visible_client(session: AsyncSession, admin: Principal, client_id: str) -> tuple[ApiClient, list[Grant]]:
    client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    grants = await tokens.active_grants(session, client_pk=client.id) if client else []
    if client is None or not admin_scope.sees(admin, [g.region for g in grants]):
        raise NotFound(NOT_FOUND_CLIENT)
    return client, grants


async def create_user(
    session: AsyncSession, admin: Principal, body: schemas.UserCreate, hasher: SecretHasher, community_of: CommunityOf
) -> tuple[User, schemas.UserOut]:
    check_grants(admin, body.grants)
    if body.worker_id is not None:
        await check_worker(community_of, admin, body.worker_id, [(g.right, g.region) for g in body.grants])
    user = User(
        username=body.username,
        name=body.name,
        phone=body.phone,
        password_hash=hasher.hash(body.password),
        worker_id=str(body.worker_id) if body.worker_id else None,
        created_by=admin.subject,
    )
    taken = Conflict(Message("用户名已存在：{username}", "User name taken: {username}"), username=body.username)
    await _added(session, user, taken)
    grants = add_grants(session, admin, body.grants, user_id=user.id)
    record(
        session, AuditAction.user_created, actor=admin.subject, subject=f"user:{user.id}", region=body.grants[0].region
    )
    await session.flush()
    await session.refresh(user)
    return user, user_out(user, grants)


async def users_page(
    at: PageAt, admin: Principal, *, region: str | None, right: str | None, active: bool | None
) -> Page[schemas.UserOut]:
    filters = {"region": region, "right": right, "active": active}
    grant_filter = [Grant.user_id == User.id, Grant.revoked_at.is_(None), in_scope(admin)]
    if region:
        grant_filter.append(Grant.region.startswith(scope_prefix(region)))
    if right:
        grant_filter.append(Grant.right == right)
    query = select(User).where(exists().where(*grant_filter)).order_by(User.username)
    if active is not None:
        query = query.where(User.active.is_(active))
    if at.cursor:
        (after,) = decode_cursor(at.cursor, filters)
        query = query.where(User.username > str(after))
    users, more = await fetch_page(at.session, query, at.limit)
    grants = await tokens.active_grants_of_users(at.session, [u.id for u in users])
    items = [user_out(u, grants[u.id]) for u in users]
    next_cursor = encode_cursor([users[-1].username], filters) if more else None
    return Page[schemas.UserOut](items=items, next_cursor=next_cursor)


async def read_user(
    session: AsyncSession, admin: Principal, user_id: uuid.UUID, unmasked: bool
) -> tuple[User, schemas.UserOut]:
    user, grants = await visible_user(session, admin, user_id)
    regions = [g.region for g in grants]
    unmask = unmasked and any(admin.may_unmask(r) for r in regions)
    if unmask:
        _audit_user(session, admin, AuditAction.personal_data_read, user.id, grants, fields=["phone"])
    return user, user_out(user, grants, unmask=unmask)


async def update_user(
    session: AsyncSession,
    admin: Principal,
    user_id: uuid.UUID,
    body: schemas.UserPatch,
    if_match: Callable[[uuid.UUID, int], None],
    hasher: SecretHasher,
    community_of: CommunityOf,
) -> tuple[User, schemas.UserOut]:
    user, grants = await visible_user(session, admin, user_id)
    managed(admin, grants)  # visible, but holding what this admin could not grant: read-only (AC4)
    if_match(user.id, user.version)
    changes = body.model_dump(exclude_unset=True)
    if "worker_id" in changes:
        worker_id = changes.pop("worker_id")
        if worker_id is not None:
            await check_worker(community_of, admin, worker_id, [(g.right, g.region) for g in grants])
        if (str(worker_id) if worker_id else None) != user.worker_id:
            user.worker_id = str(worker_id) if worker_id else None
            await tokens.revoke_user_sessions(session, user.id)  # no session keeps reading the former worker
            changes["worker_id"] = user.worker_id
    if "password" in changes:
        user.password_hash = hasher.hash(changes.pop("password"))
        await tokens.revoke_user_sessions(session, user.id)
        changes["password"] = "changed"
    for field in ("name", "phone", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if changes.get("active") is False:
        await tokens.revoke_user_sessions(session, user.id)
    user.version += 1
    user.updated_at = datetime.now(UTC)
    _audit_user(session, admin, AuditAction.user_updated, user.id, grants, fields=sorted(changes))
    await session.flush()
    return user, user_out(user, grants)


async def grant_to_user(
    session: AsyncSession, admin: Principal, user_id: uuid.UUID, body: schemas.GrantIn
) -> schemas.GrantOut:
    _, grants = await visible_user(session, admin, user_id)
    not_self(admin, user_id)
    managed(admin, grants)
    check_grants(admin, [body], pointer="/body")
    (grant,) = add_grants(session, admin, [body], user_id=user_id)
    await session.flush()
    await session.refresh(grant)
    return grant_out(grant)


async def revoke_grant(session: AsyncSession, admin: Principal, grant_id: uuid.UUID) -> None:
    grant = await session.get(Grant, grant_id)
    if grant is None or grant.revoked_at is not None or not admin_scope.sees(admin, [grant.region]):
        raise NotFound(Message("授权不存在", "No such grant"))
    if grant.user_id is not None:
        holder_grants = await tokens.active_grants(session, user_id=grant.user_id)
    else:
        holder_grants = await tokens.active_grants(session, client_pk=grant.client_pk)
    managed(admin, holder_grants)  # AC4: covers the grant itself (AC2) and the rest of its account
    grant.revoked_at = datetime.now(UTC)
    grant.revoked_by = admin.subject
    holder = f"user:{grant.user_id}" if grant.user_id else f"client:{grant.client_pk}"
    record(
        session,
        AuditAction.role_revoked,
        actor=admin.subject,
        subject=holder,
        region=grant.region,
        details={"right": grant.right},
    )


async def create_client(
    session: AsyncSession, admin: Principal, body: schemas.ClientCreate, hasher: SecretHasher
) -> schemas.ClientSecret:
    check_grants(admin, body.grants)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=body.client_id,
        name=body.name,
        department=body.department,
        secret_hash=hasher.hash(secret),
        created_by=admin.subject,
    )
    taken = Conflict(Message("客户端编号已存在：{id}", "Client id taken: {id}"), id=body.client_id)
    await _added(session, client, taken)
    add_grants(session, admin, body.grants, client_pk=client.id)
    record(session, AuditAction.client_created, actor=admin.subject, subject=f"client:{client.client_id}")
    return schemas.ClientSecret(client_id=client.client_id, client_secret=secret)


async def clients(session: AsyncSession, admin: Principal) -> list[schemas.ClientOut]:
    query = (
        select(ApiClient)
        .where(exists().where(Grant.client_pk == ApiClient.id, Grant.revoked_at.is_(None), in_scope(admin)))
        .order_by(ApiClient.client_id)
    )
    found = list((await session.scalars(query)).all())
    grants = await tokens.active_grants_of_clients(session, [c.id for c in found])
    out = [from_row(schemas.ClientOut, client, grants=[grant_out(g) for g in grants[client.id]]) for client in found]
    return out


async def rotate_client_secret(
    session: AsyncSession, admin: Principal, client_id: str, hasher: SecretHasher
) -> schemas.ClientSecret:
    client, grants = await visible_client(session, admin, client_id)
    managed(admin, grants)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hasher.hash(secret)
    client.version += 1
    record(session, AuditAction.client_secret_rotated, actor=admin.subject, subject=f"client:{client.client_id}")
    return schemas.ClientSecret(client_id=client.client_id, client_secret=secret)


async def live_sessions(session: AsyncSession, admin: Principal, user_id: uuid.UUID | None) -> list[schemas.SessionOut]:
    now = datetime.now(UTC)
    visible_user = exists().where(Grant.user_id == RefreshToken.user_id, Grant.revoked_at.is_(None), in_scope(admin))
    query = (
        select(
            RefreshToken.family_id.label("id"),
            RefreshToken.user_id,
            func.min(RefreshToken.issued_at).label("started_at"),
            func.max(RefreshToken.issued_at).label("last_refreshed_at"),
            func.max(RefreshToken.expires_at).label("expires_at"),
        )
        .where(visible_user)
        .group_by(RefreshToken.family_id, RefreshToken.user_id)
        .having(func.bool_and(RefreshToken.revoked_at.is_(None)))
        .having(func.max(RefreshToken.expires_at) > now)
        .order_by(func.max(RefreshToken.issued_at).desc())
    )
    if user_id is not None:
        query = query.where(RefreshToken.user_id == user_id)
    rows = (await session.execute(query)).all()
    latest = {  # each session's newest refresh token (its device), in one query
        t.family_id: t
        for t in await session.scalars(
            select(RefreshToken)
            .where(RefreshToken.family_id.in_([r.id for r in rows]))
            .ext(distinct_on(RefreshToken.family_id))
            .order_by(RefreshToken.family_id, RefreshToken.issued_at.desc())
        )
    }
    out = []
    for row in rows:  # the columns are named as the answer's fields
        device = latest.get(row.id)
        user_agent, ip = (device.user_agent, device.ip) if device else (None, None)
        out.append(from_row(schemas.SessionOut, row, user_agent=user_agent, ip=ip))
    return out


async def end_session(session: AsyncSession, admin: Principal, session_id: uuid.UUID) -> None:
    owner = await session.scalar(select(RefreshToken.user_id).where(RefreshToken.family_id == session_id).limit(1))
    if owner is None:
        raise NotFound(Message("会话不存在", "No such session"))
    _, grants = await visible_user(session, admin, owner)
    managed(admin, grants)
    await sign_out.end_session(session, session_id, actor=admin.subject, user_id=owner, region=_region_of(grants))
