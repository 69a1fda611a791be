"""Rendering a console page: the template with the user's language, the navigation their roles open, the
CSRF token, and the headers every page carries (a strict Content-Security-Policy: only this origin, no
inline script or style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from services.gateway.console.i18n import language_of, translator
from services.gateway.console.session import (
    ConsoleUser,
    NotSignedIn,
    csrf_token,
    ensure_csrf_cookie,
    set_session_cookies,
)
from services.gateway.console.upstream import ApiError
from services.gateway.state import gateway_state
from shared.auth import ADMIN_ROLES, REGION_ROLES, Role
from shared.scoping import WRITE_ROLES

REGION = r"^([0-9]{6}([0-9]{6})?)?$"  # a region code as the API takes it (6 digits to county, 12 below), or none
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# (path, 中文, English, roles that open it): the navigation shows what the user's grants admit; the
# services still decide, on every call, what each page may show.
NAV = (
    ("/console/staffing", "人员配备", "Staffing", REGION_ROLES | {Role.auditor}),
    ("/console/workers", "社工", "Workers", REGION_ROLES | {Role.auditor}),
    ("/console/payroll", "薪酬", "Payroll", REGION_ROLES | {Role.auditor}),
    ("/console/pay", "薪酬达标", "Pay vs policy", REGION_ROLES | {Role.auditor}),
    ("/console/bonus", "绩效奖金", "Bonus", REGION_ROLES | {Role.auditor}),
    ("/console/assessment", "考核", "Assessment", REGION_ROLES | {Role.auditor}),
    ("/console/recruitment", "招聘", "Recruitment", REGION_ROLES | {Role.auditor}),
    ("/console/imports", "导入", "Import", ADMIN_ROLES | {Role.township_officer}),
    ("/console/audit", "审计", "Audit", frozenset({Role.auditor, Role.province_admin})),
)


def default_region(user: ConsoleUser) -> str:
    regions = user.principal.regions(REGION_ROLES | {Role.auditor}) or user.principal.regions()
    return regions[0] if regions else ""


def page(
    request: Request, template: str, user: ConsoleUser | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = language_of(request)
    roles = user.principal.roles if user else frozenset()
    nav = [(path, zh, en) for path, zh, en, admits in NAV if roles & admits]
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": translator(language),
            "lang": language,
            "user": user,
            "nav": nav,
            # offered the forms that change records; the service decides each by the record's region
            "may_change": bool(roles & WRITE_ROLES),
            "csrf": csrf_token(request),
            "path": request.url.path,
            "labels": gateway_state(request).code_labels.tables,  # read by console.upstream.console_api
            **context,
        },
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
    ensure_csrf_cookie(request, response)
    if user is not None and user.renewed is not None:
        set_session_cookies(request, response, user.renewed)
    return response


def redirect(request: Request, url: str, user: ConsoleUser | None = None) -> RedirectResponse:
    """303 after a form (or ``HX-Redirect`` for htmx), keeping renewed session cookies."""
    response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
    if request.headers.get("hx-request"):
        response = RedirectResponse(url, status_code=303, headers={**SECURITY_HEADERS, "HX-Redirect": url})
    if user is not None and user.renewed is not None:
        set_session_cookies(request, response, user.renewed)
    return response


async def not_signed_in(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, NotSignedIn)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/console/sign-in?next={target}" if target.startswith("/console/") else "/console/sign-in"
    response = RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)
    if request.headers.get("hx-request"):
        response.headers["HX-Redirect"] = url
    return response


async def api_error_page(request: Request, exc: Exception) -> HTMLResponse:
    """A service's refusal that the page does not show in place: the error page, with the service's status."""
    assert isinstance(exc, ApiError)
    user = getattr(request.state, "console_user", None)
    return page(request, "error.html", user, status_code=exc.status, error=exc)
