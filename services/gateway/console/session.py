"""The console's signed-in session: the gateway's own tokens in HttpOnly, SameSite=Strict cookies, a CSRF
token for every form, and the caller verified as the API verifies it (signature, expiry, token version).

An access token lives ten minutes; when it has expired the refresh token (rotated, as the token endpoint
does) gets a new one, so a page stays usable for the refresh token's life. Nothing here decides what a
user may see: the services do, on every call the console makes with the user's token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Form, Request, Response

from services.gateway.schemas import TokenResponse
from services.gateway.sign_in import SignInDesk, refresh_sign_in
from shared.auth import Principal
from shared.problems import Problem

ACCESS_COOKIE = "shegong_access"
REFRESH_COOKIE = "shegong_refresh"
CSRF_COOKIE = "shegong_csrf"
CSRF_FIELD = "csrf"


@dataclass
class ConsoleUser:
    """The signed-in user of one console request: the verified principal and the token the console
    presents to the services on the user's behalf."""

    principal: Principal
    token: str
    renewed: TokenResponse | None = None  # set when the refresh token was used: the cookies are rewritten


class NotSignedIn(Exception):
    """No usable session: the page answers with the sign-in form."""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_session_cookies(request: Request, response: Response, tokens: TokenResponse) -> None:
    secure = _secure(request)
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, httponly=True, samesite="strict", secure=secure, path="/")
    if tokens.refresh_token:
        settings = request.app.state.settings
        response.set_cookie(
            REFRESH_COOKIE,
            tokens.refresh_token,
            max_age=settings.refresh_token_ttl_seconds,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )


def clear_session_cookies(response: Response) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="strict")


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one (``ensure_csrf_cookie`` sets it)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def ensure_csrf_cookie(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/")


# The hidden field of every console form (checked by ``csrf_ok``), and a password typed into one.
CsrfField = Annotated[str, Form(max_length=100)]
PasswordField = Annotated[str, Form(max_length=200)]


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Double submit: the form's hidden field equals the HttpOnly cookie another site cannot read or set."""
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie.encode(), submitted.encode()))


T = TypeVar("T")


async def signed_in(request: Request, grant: Callable[..., Awaitable[T]], **credentials: Any) -> T:
    """One of ``sign_in``'s grants (password, refresh, step-up) with the gateway's settings, signing keys, hasher
    and the caller, in a transaction of its own committed whether the grant succeeds or refuses: a refusal is
    audited and throttled, a reused refresh token's revocation kept. A refusal is raised (``Problem``)."""
    app = request.app
    async with app.state.sessionmaker() as session:
        try:
            result = await grant(session, SignInDesk.of(request), **credentials)
        except Problem:
            await session.commit()
            raise
        await session.commit()
    return result


async def current_user(request: Request) -> ConsoleUser:
    """The user of the session cookies, verified (revocation included); refreshed once when expired."""
    verifier = request.app.state.token_verifier
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        try:
            return ConsoleUser(await verifier.verify(token), token)
        except Problem:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        raise NotSignedIn
    try:
        tokens = await signed_in(request, refresh_sign_in, refresh_token=refresh)
    except Problem as exc:
        raise NotSignedIn from exc
    try:
        principal = await verifier.verify(tokens.access_token)
    except Problem as exc:
        raise NotSignedIn from exc
    return ConsoleUser(principal, tokens.access_token, renewed=tokens)


# The signed-in user of a console page (a page without one redirects to the sign-in form).
User = Annotated[ConsoleUser, Depends(current_user)]
