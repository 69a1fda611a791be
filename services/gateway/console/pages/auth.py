"""Sign-in and sign-out of the console (the gateway's own password grant, tokens kept in HttpOnly,
SameSite=Strict cookies), and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.client_address import client_address
from services.gateway.console.i18n import LANGUAGE_COOKIE, LANGUAGES
from services.gateway.console.render import SECURITY_HEADERS, page, redirect
from services.gateway.console.session import (
    REFRESH_COOKIE,
    CsrfField,
    PasswordField,
    clear_session_cookies,
    csrf_ok,
    set_session_cookies,
    signed_in,
)
from services.gateway.sign_in import password_sign_in
from services.gateway.sign_out import revoke_refresh_token
from shared.problems import Problem

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a console page of this site (no ``//host`` or scheme): no open redirect."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


@router.get("/console/sign-in")
async def sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return page(request, "sign_in.html", None, next=_safe_next(next), error=None)


@router.post("/console/sign-in")
async def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: PasswordField,
    csrf: CsrfField = "",
    next: Annotated[str, Form(max_length=500)] = "/console/",
) -> Response:
    if not csrf_ok(request, csrf):
        return page(request, "sign_in.html", None, status_code=403, next=_safe_next(next), error="csrf")
    try:
        tokens = await signed_in(request, password_sign_in, username=username, password=password)
    except Problem as exc:
        return page(request, "sign_in.html", None, status_code=exc.status, next=_safe_next(next), error="bad")
    response = redirect(request, _safe_next(next))
    set_session_cookies(request, response, tokens)
    return response


@router.post("/console/sign-out")
async def sign_out(request: Request, csrf: CsrfField = "") -> Response:
    response = RedirectResponse("/console/sign-in", status_code=303, headers=SECURITY_HEADERS)
    if not csrf_ok(request, csrf):
        return response
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        async with request.app.state.sessionmaker() as session:
            # The session ends, not just the cookie; audited as session_revoked, as the API's RFC 7009 revocation.
            await revoke_refresh_token(session, refresh, client_address(request))
            await session.commit()
    clear_session_cookies(response)
    return response


@router.get("/console/lang/{language}")
async def switch_language(request: Request, language: str, back: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(back), status_code=303, headers=SECURITY_HEADERS)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="strict", path="/")
    return response
