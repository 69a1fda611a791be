"""``POST /api/v1/auth/token`` (OAuth2: password, client_credentials, refresh_token), revocation,
``GET /.well-known/jwks.json`` and ``GET /api/v1/auth/me``."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from services.gateway.audit import AuditAction, record
from services.gateway.client_address import client_address
from services.gateway.models import ApiClient, User
from services.gateway.schemas import GrantIn, PrincipalOut, TokenResponse
from services.gateway.settings import Settings
from services.gateway.sign_in_throttle import Thresholds, wait_seconds
from services.gateway.state import gateway_state
from services.gateway.tokens import (
    client_principal,
    client_secret_matches,
    find_refresh_token,
    issue_access_token,
    new_refresh_token,
    revoke_family,
    revoke_user_sessions,
    rotate_refresh_token,
    user_principal,
)
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.i18n import Message
from shared.problems import BadRequest, Forbidden, TooManyRequests, Unauthorized, problem_responses

router = APIRouter(tags=["auth"])

# One message for unknown account and wrong password: the answer must not tell which.
BAD_CREDENTIALS = Message("用户名或密码错误", "Wrong user name or password")
BAD_CLIENT = Message("客户端编号或密钥错误", "Wrong client id or secret")
BAD_REFRESH = Message("刷新令牌无效、已过期或已撤销", "The refresh token is invalid, expired or revoked")


def _oauth_error(detail: Message, error: str) -> Unauthorized:
    problem = Unauthorized(detail)
    problem.extra = {"error": error}
    return problem


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _address(request: Request) -> str | None:
    return client_address(request)


@router.post(
    "/api/v1/auth/token",
    summary="签发令牌 issue tokens (OAuth2: password, client_credentials, refresh_token)",
    description=(
        "Form-encoded per RFC 6749. Wrong user name and wrong password give the same 401; repeated "
        "failed password sign-ins are slowed down per account, and per address at a higher threshold (429 "
        "with Retry-After). A refresh token presented again within the reuse grace (30 s) of its rotation "
        "gets the same successor; later, the reuse ends its whole session. A client's previous secret "
        "stays valid for the rotation grace period (an hour) after a rotation."
    ),
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 429),
)
async def issue_token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(description="password | client_credentials | refresh_token")],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    settings: Settings = gateway_state(request).settings
    keys = gateway_state(request).signing_keys
    ttl = settings.access_token_ttl_seconds
    if grant_type == "password":
        if not username or password is None:
            raise BadRequest(Message("需要 username 和 password", "username and password are required"))
        limits = Thresholds(
            account_failures=settings.signin_max_failures,
            address_failures=settings.signin_address_max_failures,
            window_seconds=settings.signin_failure_window_seconds,
            max_delay_seconds=settings.signin_max_delay_seconds,
        )
        wait = await wait_seconds(session, account=username, address=_address(request), limits=limits)
        if wait:
            raise TooManyRequests(
                Message("登录失败次数过多，请 {seconds} 秒后再试", "Too many failed sign-ins; retry in {seconds} s"),
                headers={"Retry-After": str(wait)},
                seconds=wait,
            )
        user = await session.scalar(select(User).where(User.username == username))
        ok = gateway_state(request).hasher.verify(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            record(
                session,
                AuditAction.sign_in_failed,
                actor=None,
                subject=username,
                ip=_address(request),
                details={"grant_type": "password"},
            )
            await session.commit()  # kept, though the request fails: it is what slows the next attempt
            raise _oauth_error(BAD_CREDENTIALS, "invalid_grant")
        version = user.token_version  # read before the grants: a grant changed meanwhile makes it stale
        principal = await user_principal(session, user)
        _, refresh = await new_refresh_token(
            session,
            user.id,
            settings.refresh_token_ttl_seconds,
            user_agent=request.headers.get("user-agent"),
            ip=_address(request),
        )
        record(
            session,
            AuditAction.sign_in,
            actor=principal.subject,
            subject=principal.subject,
            region=principal.regions()[0] if principal.grants else None,
            ip=_address(request),
            details={"username": username, "grant_type": "password"},
        )
        return TokenResponse(
            access_token=issue_access_token(keys, principal, ttl, token_version=version),
            expires_in=ttl,
            refresh_token=refresh,
        )

    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise BadRequest(Message("需要 client_id 和 client_secret", "client_id and client_secret are required"))
        client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        ok = client_secret_matches(
            gateway_state(request).hasher, client, client_secret, settings.client_secret_grace_seconds
        )
        if client is None or not ok or not client.active:
            record(
                session,
                AuditAction.sign_in_failed,
                actor=None,
                subject=client_id,
                ip=_address(request),
                details={"grant_type": "client_credentials"},
            )
            await session.commit()
            raise _oauth_error(BAD_CLIENT, "invalid_client")
        version = client.token_version
        principal = await client_principal(session, client)
        # Client credentials get no refresh token (RFC 6749 §4.4.3): they ask again.
        return TokenResponse(
            access_token=issue_access_token(keys, principal, ttl, token_version=version), expires_in=ttl
        )

    if grant_type == "refresh_token":
        if not refresh_token:
            raise BadRequest(Message("需要 refresh_token", "refresh_token is required"))
        rotation = await rotate_refresh_token(
            session,
            refresh_token,
            ttl_seconds=settings.refresh_token_ttl_seconds,
            reuse_grace_seconds=settings.refresh_token_reuse_grace_seconds,
            user_agent=request.headers.get("user-agent"),
            ip=_address(request),
        )
        if rotation.reused and rotation.token is not None:
            # Commit the family's revocation before refusing: the copy must be dead too.
            record(
                session,
                AuditAction.refresh_token_reused,
                actor=None,
                subject=f"user:{rotation.token.user_id}",
                ip=_address(request),
                details={"family_id": str(rotation.token.family_id)},
            )
            await session.commit()
            raise _oauth_error(BAD_REFRESH, "invalid_grant")
        token = rotation.token
        user = await session.get(User, token.user_id) if token else None
        if token is None or rotation.successor is None or user is None or not user.active:
            raise _oauth_error(BAD_REFRESH, "invalid_grant")
        version = user.token_version
        principal = await user_principal(session, user)  # roles as they are now, not as at sign-in
        return TokenResponse(
            access_token=issue_access_token(keys, principal, ttl, token_version=version),
            expires_in=ttl,
            refresh_token=rotation.successor,
        )

    problem = BadRequest(
        Message("不支持的 grant_type：{grant_type}", "Unsupported grant_type: {grant_type}"), grant_type=grant_type[:40]
    )
    problem.extra = {"error": "unsupported_grant_type"}
    raise problem


@router.post(
    "/api/v1/auth/revoke",
    summary="撤销刷新令牌 revoke a refresh token and its whole session (RFC 7009)",
    status_code=200,
    responses=problem_responses(422),
)
async def revoke_token(request: Request, session: SessionDep, token: Annotated[str, Form()]) -> JSONResponse:
    found = await find_refresh_token(session, token)
    if found is not None:
        await revoke_family(session, found.family_id)
        record(
            session,
            AuditAction.session_revoked,
            actor=f"user:{found.user_id}",
            subject=f"user:{found.user_id}",
            ip=_address(request),
            details={"family_id": str(found.family_id)},
        )
    # RFC 7009 §2.2: the answer is the same whether or not the token was valid.
    return JSONResponse({}, status_code=200)


@router.post(
    "/api/v1/auth/revoke-all",
    summary="退出所有登录 sign out everywhere: every session ends, every access token is refused at once",
    description=(
        "Revokes every refresh token of the calling user and bumps their token version: access tokens "
        "issued before are refused at the gateway within a few seconds (SHEGONG_GATEWAY_TOKEN_VERSION_CACHE_"
        "SECONDS). For a lost phone. Users only; an API client asks an administrator to rotate its secret."
    ),
    status_code=204,
    responses=problem_responses(401, 403),
)
async def revoke_all(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    kind, _, ident = principal.subject.partition(":")
    if kind != "user":
        raise Forbidden(Message("仅用于用户账号", "For user accounts only"))
    user_id = uuid.UUID(ident)
    await revoke_user_sessions(session, user_id)
    record(
        session,
        AuditAction.session_revoked,
        actor=principal.subject,
        subject=principal.subject,
        ip=_address(request),
        details={"all": True},
    )
    return Response(status_code=204)


@router.get(
    "/.well-known/jwks.json",
    summary="令牌公钥 the public keys that verify access tokens (JWKS)",
)
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(gateway_state(request).signing_keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/api/v1/auth/me",
    summary="当前调用方 who the token says the caller is",
    response_model=PrincipalOut,
    responses=problem_responses(401),
)
async def who_am_i(principal: CurrentPrincipal) -> PrincipalOut:
    return PrincipalOut(
        subject=principal.subject,
        name=principal.name,
        grants=[GrantIn(right=g.role.value, region=g.region) for g in principal.grants],
        personal_data_regions=list(principal.personal_data_regions),
        worker_id=principal.worker_id,
    )
