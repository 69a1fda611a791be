"""``/docs`` (Swagger UI 5, which reads OpenAPI 3.1) and ``/redoc`` on every service and the gateway, from the
suite's own files (``shared/static``): no request leaves the machine, no inline script (the pages start the
viewers from ``shared/static/docs/*.js``), a Content-Security-Policy that admits only this origin.

"Try it out" signs in with the OAuth2 password flow of the gateway (``tokenUrl`` of the documents).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/docs/static"
# Swagger UI and Redoc set style attributes and Redoc runs its search in a blob worker: both stay on this
# origin; scripts only from files of this origin.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP, "Referrer-Policy": "no-referrer"})


def swagger_ui_page(title: str, openapi_url: str, parts: dict[str, str] | None = None) -> HTMLResponse:
    head = (
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/vendor/swagger-ui.css">\n'
        f'<link rel="icon" type="image/png" href="{STATIC_PREFIX}/vendor/swagger-favicon-32x32.png">'
    )
    body = (
        f'<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}" '
        f'data-openapi-parts="{escape(json.dumps(parts or {}))}" '
        'data-oauth2-redirect-url="/docs/oauth2-redirect"></div>\n'
        f'<script src="{STATIC_PREFIX}/vendor/swagger-ui-bundle.js"></script>\n'
        f'<script src="{STATIC_PREFIX}/docs/swagger-init.js"></script>'
    )
    return _page(title, head, body)


def redoc_page(title: str, openapi_url: str) -> HTMLResponse:
    head = f'<link rel="stylesheet" href="{STATIC_PREFIX}/docs/redoc.css">'
    body = (
        f'<redoc spec-url="{escape(openapi_url)}" hide-download-button="false"></redoc>\n'
        f'<script src="{STATIC_PREFIX}/vendor/redoc.standalone.js"></script>'
    )
    return _page(title, head, body)


def oauth2_redirect_page() -> HTMLResponse:
    return _page("OAuth2 redirect", "", f'<script src="{STATIC_PREFIX}/vendor/oauth2-redirect.js"></script>')


def install_api_docs(
    app: FastAPI, *, title: str, openapi_url: str = "/openapi.json", parts: dict[str, str] | None = None
) -> None:
    """Serve ``/docs``, ``/redoc``, ``/docs/oauth2-redirect`` and their assets under ``/docs/static``.

    ``parts`` (name → document URL) makes Swagger UI offer one document per part in its selector instead of
    ``openapi_url``: Swagger UI 5.35 stops drawing a document of more than 124 operations after its first
    tags (measured on the gateway's merged document), so the gateway shows it service by service; ReDoc and
    ``openapi_url`` keep the whole."""

    async def docs(request: Request) -> HTMLResponse:
        return swagger_ui_page(f"{title} — docs", openapi_url, parts)

    async def redoc(request: Request) -> HTMLResponse:
        return redoc_page(f"{title} — ReDoc", openapi_url)

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return oauth2_redirect_page()

    app.add_route("/docs", docs, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="docs-static")
