"""导入 Import: upload a workforce file to the roster's import API, follow its progress (htmx polls the
status fragment until the job ends), read its errors row by row and download the error report and the
template. The roster validates and loads; the console only shows what it answers.

The API (``/v1/imports``, roster) is built on its own branch against this contract:
``POST /v1/imports?kind=workforce&mode=all_or_nothing|good_rows`` (multipart ``file``) → 202 with the job;
``GET /v1/imports/{id}`` → ``{id, kind, status, rows_total, rows_done, error_count, errors[], eta_seconds}``;
``GET /v1/imports/{id}/errors.xlsx``; ``GET /v1/imports/templates/workforce.xlsx``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.gateway.console.i18n import language_of
from services.gateway.console.render import SECURITY_HEADERS, page, redirect
from services.gateway.console.session import ConsoleUser, csrf_ok, current_user
from services.gateway.console.upstream import ApiError, ConsoleApi

router = APIRouter()
User = Annotated[ConsoleUser, Depends(current_user)]
MODES = ("all_or_nothing", "good_rows")
FINISHED = frozenset({"succeeded", "rejected", "failed"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 20 * 1024 * 1024


@router.get("/console/imports")
async def upload_form(request: Request, user: User) -> HTMLResponse:
    return page(request, "imports.html", user, error=None)


@router.post("/console/imports")
async def upload(
    request: Request,
    user: User,
    file: UploadFile,
    mode: Annotated[str, Form(max_length=20)] = "all_or_nothing",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not csrf_ok(request, csrf):
        return page(request, "imports.html", user, status_code=403, error="csrf")
    content = await file.read(MAX_UPLOAD + 1)
    if mode not in MODES or not content or len(content) > MAX_UPLOAD:
        return page(request, "imports.html", user, status_code=422, error="file")
    api = ConsoleApi(request, user, language_of(request))
    try:
        response = await api.send(
            "POST",
            "roster",
            "/imports",
            params={"kind": "workforce", "mode": mode},
            files={"file": (file.filename or "upload.xlsx", content, file.content_type or XLSX)},
        )
    except ApiError as exc:
        return page(request, "imports.html", user, status_code=exc.status, error=exc.detail)
    return redirect(request, f"/console/imports/{response.json()['id']}", user)


@router.get("/console/imports/{import_id}")
async def progress(request: Request, user: User, import_id: uuid.UUID) -> HTMLResponse:
    api = ConsoleApi(request, user, language_of(request))
    try:
        job = await api.get("roster", f"/imports/{import_id}")
    except ApiError as exc:
        return page(request, "error.html", user, status_code=exc.status, error=exc)
    template = "import_status.html" if request.headers.get("hx-request") else "import.html"
    return page(request, template, user, job=job, finished=job["status"] in FINISHED)


async def _download(request: Request, user: ConsoleUser, path: str, filename: str) -> Response:
    api = ConsoleApi(request, user, language_of(request))
    try:
        upstream = await api.send("GET", "roster", path)
    except ApiError as exc:
        return page(request, "error.html", user, status_code=exc.status, error=exc)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(upstream.content, media_type=upstream.headers.get("content-type", XLSX), headers=headers)


@router.get("/console/imports/{import_id}/errors.xlsx")
async def error_report(request: Request, user: User, import_id: uuid.UUID) -> Response:
    return await _download(request, user, f"/imports/{import_id}/errors.xlsx", f"import-{import_id}-errors.xlsx")


@router.get("/console/import-template/workforce.xlsx")
async def template(request: Request, user: User) -> Response:
    return await _download(request, user, "/imports/templates/workforce.xlsx", "workforce.xlsx")
