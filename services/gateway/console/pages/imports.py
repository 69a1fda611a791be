"""导入 Import: upload a file of one kind to the import API of the service that imports it (workforce and
regions: roster; training attendance and assessment scores: evaluation; reference statistics:
compensation), follow its progress (htmx polls the status fragment until the job ends), read its errors
row by row and download the error report and the template. The service validates and loads; the console
only shows what it answers. The job's pages carry its service (``?service=``, default roster).

The API (``/v1/imports``, roster) is built on its own branch against this contract:
``POST /v1/imports?kind=workforce&mode=all_or_nothing|good_rows`` (multipart ``file``) → 202 with the job;
``GET /v1/imports/{id}`` → ``{id, kind, status, rows_total, rows_done, error_count, errors[], eta_seconds}``;
``GET /v1/imports/{id}/errors.xlsx``; ``GET /v1/imports/templates/workforce.xlsx``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.gateway.console.render import SECURITY_HEADERS, page, redirect
from services.gateway.console.session import CsrfField, User, csrf_ok
from services.gateway.console.upstream import Api, ApiError, ConsoleApi

router = APIRouter()
MODES = ("all_or_nothing", "good_rows")
FINISHED = frozenset({"succeeded", "rejected", "failed"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 20 * 1024 * 1024
# Each kind: the service that imports it, its name in Chinese and in English.
KINDS: dict[str, tuple[str, str, str]] = {
    "workforce": ("roster", "社区工作者", "The workforce"),
    "regions": ("roster", "区划与社区", "Regions and communities"),
    "training": ("evaluation", "培训学时", "Training attendance"),
    "scores": ("evaluation", "考核评分", "Assessment scores"),
    "statistics": ("compensation", "统计数据", "Reference statistics"),
}
Service = Annotated[Literal["roster", "evaluation", "compensation"], "the service that runs the job"]


@router.get("/console/imports")
async def upload_form(request: Request, user: User) -> HTMLResponse:
    return page(request, "imports.html", user, error=None, kinds=KINDS)


@router.post("/console/imports")
async def upload(
    request: Request,
    user: User,
    api: Api,
    file: UploadFile,
    mode: Annotated[str, Form(max_length=20)] = "all_or_nothing",
    kind: Annotated[str, Form(max_length=20)] = "workforce",
    csrf: CsrfField = "",
) -> Response:
    if not csrf_ok(request, csrf):
        return page(request, "imports.html", user, status_code=403, error="csrf", kinds=KINDS)
    content = await file.read(MAX_UPLOAD + 1)
    if mode not in MODES or kind not in KINDS or not content or len(content) > MAX_UPLOAD:
        return page(request, "imports.html", user, status_code=422, error="file", kinds=KINDS)
    service = KINDS[kind][0]
    try:
        response = await api.send(
            "POST",
            service,
            "/imports",
            params={"kind": kind, "mode": mode},
            files={"file": (file.filename or "upload.xlsx", content, file.content_type or XLSX)},
        )
    except ApiError as exc:
        return page(request, "imports.html", user, status_code=exc.status, error=exc.detail, kinds=KINDS)
    return redirect(request, f"/console/imports/{response.json()['id']}?service={service}", user)


@router.get("/console/imports/{import_id}")
async def progress(
    request: Request, user: User, api: Api, import_id: uuid.UUID, service: Service = "roster"
) -> HTMLResponse:
    job = await api.get(service, f"/imports/{import_id}")
    template = "import_status.html" if request.headers.get("hx-request") else "import.html"
    return page(request, template, user, job=job, service=service, finished=job["status"] in FINISHED)


async def _download(api: ConsoleApi, service: str, path: str, filename: str) -> Response:
    upstream = await api.send("GET", service, path)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(upstream.content, media_type=upstream.headers.get("content-type", XLSX), headers=headers)


@router.get("/console/imports/{import_id}/errors.xlsx")
async def error_report(api: Api, import_id: uuid.UUID, service: Service = "roster") -> Response:
    path, name = f"/imports/{import_id}/errors.xlsx", f"import-{import_id}-errors.xlsx"
    return await _download(api, service, path, name)


@router.get("/console/import-template/{kind}.xlsx")
async def template(api: Api, kind: Literal[tuple(KINDS)]) -> Response:  # type: ignore[valid-type]
    return await _download(api, KINDS[kind][0], f"/imports/templates/{kind}.xlsx", f"{kind}.xlsx")
