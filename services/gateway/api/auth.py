"""``POST /api/v1/auth/token`` (OAuth2: password, client_credentials, refresh_token), revocation,
``GET /.well-known/jwks.json`` and ``GET /api/v1/auth/me``."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from services.gateway import sign_out
from services.gateway.client_address import client_address
from services.gateway.schemas import GrantIn, PrincipalOut, TokenResponse
from services.gateway.sign_in import SignInDesk, client_sign_in, password_sign_in, refresh_sign_in
from services.gateway.state import gateway_state
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.i18n import Message
from shared.problems import BadRequest, problem_responses

router = APIRouter(tags=["auth"])


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
    desk = SignInDesk.of(request)
    if grant_type == "password":
        return await password_sign_in(session, desk, username=username, password=password)

    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise BadRequest(Message("需要 client_id 和 client_secret", "client_id and client_secret are required"))
        return await client_sign_in(session, desk, client_id=client_id, client_secret=client_secret)

    if grant_type == "refresh_token":
        return await refresh_sign_in(session, desk, refresh_token=refresh_token)

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
    await sign_out.revoke_refresh_token(session, token, client_address(request))
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
async def revoke_all(request: Request, session: SessionDep, principal: CurrentPrincipal) -> None:
    await sign_out.sign_out_everywhere(session, principal, client_address(request))


@router.get(
    "/.well-known/jwks.json",
    summary="令牌公钥 the public keys that verify access tokens (JWKS)",
)
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(gateway_state(request).signing_keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/api/v1/auth/me",
    summary="当前调用方 who the token says the caller is",
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
