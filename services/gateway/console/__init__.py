"""The web console (控制台) for county and township staff, served by the gateway at ``/`` and ``/console/``.

Server-rendered (Jinja2) with htmx for partial updates; every page calls the services with the signed-in
user's own token (``upstream.ConsoleApi``), so access checks stay where they are, in the services. No
business rule lives here. One module per page under ``pages/``; templates and static files beside them.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from services.gateway.console.pages import (
    assessment,
    audit,
    auth,
    bonus,
    home,
    imports,
    pay,
    payroll,
    recruitment,
    staffing,
    workers,
)
from services.gateway.console.render import api_error_page, not_signed_in
from services.gateway.console.session import NotSignedIn
from services.gateway.console.upstream import ApiError

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = Path(__file__).resolve().parents[3] / "shared" / "static" / "vendor"


def install_console(app: FastAPI) -> None:
    for module in (home, auth, workers, staffing, payroll, pay, bonus, assessment, recruitment, imports, audit):
        app.include_router(module.router, include_in_schema=False)
    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(ApiError, api_error_page)
    app.mount("/console/static/vendor", StaticFiles(directory=VENDOR), name="console-vendor")
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
