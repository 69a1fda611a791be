"""``/`` and ``/console/``: who is signed in, with which grants, and the pages they open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.gateway.console.render import SECURITY_HEADERS, page
from services.gateway.console.session import User
from shared.auth import ROLE_LABELS

router = APIRouter()


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=303, headers=SECURITY_HEADERS)


@router.get("/console")
async def console_no_slash() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=303, headers=SECURITY_HEADERS)


@router.get("/console/")
async def home(request: Request, user: User) -> HTMLResponse:
    grants = [(ROLE_LABELS.get(g.role, g.role), g.role, g.region) for g in user.principal.grants]
    return page(request, "home.html", user, grants=grants)
