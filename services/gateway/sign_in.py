"""Signing in: the password, client-credentials and refresh-token grants of ``POST /api/v1/auth/token``, also
what the console's sign-in form and its cookie session use (one place that checks passwords, slows down
repeated failures, records the audit and mints tokens)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from services.gateway import tokens
from services.gateway.audit import AuditAction, record
from services.gateway.client_address import client_address
from services.gateway.keys import SigningKeys
from services.gateway.models import ApiClient, User
from services.gateway.passwords import SecretHasher
from services.gateway.schemas import TokenResponse
from services.gateway.settings import Settings
from services.gateway.sign_in_throttle import Thresholds, wait_seconds
from services.gateway.state import gateway_state
from shared.auth import Principal
from shared.i18n import Message
from shared.problems import BadRequest, TooManyRequests, Unauthorized

# One message for unknown account and wrong password: the answer must not tell which.
BAD_CREDENTIALS = Message("用户名或密码错误", "Wrong user name or password")
BAD_CLIENT = Message("客户端编号或密钥错误", "Wrong client id or secret")
BAD_REFRESH = Message("刷新令牌无效、已过期或已撤销", "The refresh token is invalid, expired or revoked")


def oauth_error(detail: Message, error: str) -> Unauthorized:
    problem = Unauthorized(detail)
    problem.extra = {"error": error}  # RFC 6749 §5.2 error code, alongside the problem details
    return problem


@dataclass(frozen=True)
class Caller:
    """Who is signing in, as far as the request tells: for the throttle and the audit."""

    ip: str | None
    user_agent: str | None

    @classmethod
    def of(cls, request: Request) -> Caller:
        return cls(ip=client_address(request), user_agent=request.headers.get("user-agent"))


@dataclass(frozen=True)
class SignInDesk:
    """What every grant needs besides the credentials: the gateway's settings, signing keys and secret hasher,
    and who is asking."""

    settings: Settings
    keys: SigningKeys
    hasher: SecretHasher
    caller: Caller

    @classmethod
    def of(cls, request: Request) -> SignInDesk:
        state = gateway_state(request)
        return cls(state.settings, state.signing_keys, state.hasher, Caller.of(request))

    def tokens(self, principal: Principal, version: int, refresh: str | None = None) -> TokenResponse:
        """An access token of ``principal`` at the account's token ``version`` (and the refresh token, if any)."""
        ttl = self.settings.access_token_ttl_seconds
        access = tokens.issue_access_token(self.keys, principal, ttl, token_version=version)
        return TokenResponse(access_token=access, expires_in=ttl, refresh_token=refresh)


async def _refused(
    session: AsyncSession, caller: Caller, subject: str, grant_type: str, detail: Message, error: str
) -> Unauthorized:
    """A failed sign-in, audited and committed though the request fails (it is what slows the next attempt)."""
    details = {"grant_type": grant_type}
    record(session, AuditAction.sign_in_failed, actor=None, subject=subject, ip=caller.ip, details=details)
    await session.commit()
    return oauth_error(detail, error)


async def password_sign_in(
    session: AsyncSession, desk: SignInDesk, *, username: str | None, password: str | None
) -> TokenResponse:
    """The password grant: an access token and a refresh token, or 401 (one answer for either mistake)."""
    if not username or password is None:
        raise BadRequest(Message("需要 username 和 password", "username and password are required"))
    limits = Thresholds(
        account_failures=desk.settings.signin_max_failures,
        address_failures=desk.settings.signin_address_max_failures,
        window_seconds=desk.settings.signin_failure_window_seconds,
        max_delay_seconds=desk.settings.signin_max_delay_seconds,
    )
    wait = await wait_seconds(session, account=username, address=desk.caller.ip, limits=limits)
    if wait:
        raise TooManyRequests(
            Message("登录失败次数过多，请 {seconds} 秒后再试", "Too many failed sign-ins; retry in {seconds} s"),
            headers={"Retry-After": str(wait)},
            seconds=wait,
        )
    user = await session.scalar(select(User).where(User.username == username))
    ok = desk.hasher.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        raise await _refused(session, desk.caller, username, "password", BAD_CREDENTIALS, "invalid_grant")
    version = user.token_version  # read before the grants: a grant changed meanwhile makes it stale
    principal = await tokens.user_principal(session, user)
    _, refresh = await tokens.new_refresh_token(
        session, user.id, desk.settings.refresh_token_ttl_seconds, user_agent=desk.caller.user_agent, ip=desk.caller.ip
    )
    record(
        session,
        AuditAction.sign_in,
        actor=principal.subject,
        subject=principal.subject,
        region=principal.regions()[0] if principal.grants else None,
        ip=desk.caller.ip,
        details={"username": username, "grant_type": "password"},
    )
    return desk.tokens(principal, version, refresh)


async def client_sign_in(
    session: AsyncSession, desk: SignInDesk, *, client_id: str, client_secret: str
) -> TokenResponse:
    """The client-credentials grant: an access token (no refresh token, RFC 6749 §4.4.3: the client asks
    again), or 401 for an unknown client, a wrong secret (the previous one works for the rotation's grace
    period) or a disabled client, audited."""
    client = await session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    ok = tokens.client_secret_matches(desk.hasher, client, client_secret, desk.settings.client_secret_grace_seconds)
    if client is None or not ok or not client.active:
        raise await _refused(session, desk.caller, client_id, "client_credentials", BAD_CLIENT, "invalid_client")
    version = client.token_version
    return desk.tokens(await tokens.client_principal(session, client), version)


async def refresh_sign_in(session: AsyncSession, desk: SignInDesk, *, refresh_token: str | None) -> TokenResponse:
    """The refresh-token grant: the token rotates; a reused one ends its whole session."""
    if not refresh_token:
        raise BadRequest(Message("需要 refresh_token", "refresh_token is required"))
    rotation = await tokens.rotate_refresh_token(
        session,
        refresh_token,
        ttl_seconds=desk.settings.refresh_token_ttl_seconds,
        reuse_grace_seconds=desk.settings.refresh_token_reuse_grace_seconds,
        user_agent=desk.caller.user_agent,
        ip=desk.caller.ip,
    )
    if rotation.reused and rotation.token is not None:
        # Commit the family's revocation before refusing: the copy must be dead too.
        record(
            session,
            AuditAction.refresh_token_reused,
            actor=None,
            subject=f"user:{rotation.token.user_id}",
            ip=desk.caller.ip,
            details={"family_id": str(rotation.token.family_id)},
        )
        await session.commit()
        raise oauth_error(BAD_REFRESH, "invalid_grant")
    token = rotation.token
    user = await session.get(User, token.user_id) if token else None
    if token is None or rotation.successor is None or user is None or not user.active:
        raise oauth_error(BAD_REFRESH, "invalid_grant")
    version = user.token_version
    principal = await tokens.user_principal(session, user)  # roles as they are now, not as at sign-in
    return desk.tokens(principal, version, rotation.successor)


async def step_up(
    session: AsyncSession, desk: SignInDesk, *, user_id: uuid.UUID, password: str | None
) -> TokenResponse:
    """Step-up confirmation of a signed-in user before a consequential act (approving a payroll run): the
    password again, through the same checks, throttle and audit as a sign-in; fresh tokens for the act."""
    user = await session.get(User, user_id)
    if user is None:
        raise oauth_error(BAD_CREDENTIALS, "invalid_grant")
    return await password_sign_in(session, desk, username=user.username, password=password)
