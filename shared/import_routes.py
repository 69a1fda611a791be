"""The import operations every importing service offers (issue #13), added to its router by
:func:`add_import_routes`: the template of a kind, the upload (parsed and authorised here, run by
``shared.import_jobs``), the job with its progress, the list of jobs, every bad cell, and the uploaded
workbook with the bad cells marked. Thin: each calls one use case of the service's ``ImportJobs``.

(No ``from __future__ import annotations`` here: the routes' annotations name the service's own kind enum
and job model, which FastAPI must see as objects.)"""

import uuid
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile
from fastapi.types import DecoratedCallable

from shared.auth import Principal
from shared.db import SessionDep
from shared.dependencies import Reader, Writer
from shared.i18n import Message
from shared.import_jobs import ImportJobs
from shared.import_schemas import ImportErrorOut, ImportJobBase, ImportMode
from shared.list_answers import paged_route
from shared.pagination import Page, PageAt
from shared.problems import FieldError, UnprocessableContent, problem_responses
from shared.regions import RegionCode
from shared.scoping import NO_SUCH_REGION, WRITE_ROLES, require_write
from shared.spreadsheets import XLSX_TYPE
from shared.sync import UpdatedSince

JobId = Annotated[uuid.UUID, Path(description="导入任务编号 import job id")]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
BINARY = {"schema": {"type": "string", "format": "binary"}}
FileContent = dict[int | str, dict[str, Any]]  # the documented 200 of an operation answering a file
# The workbook's own type, and octet-stream for generated clients that read any file as bytes.
XLSX: FileContent = {
    200: {"content": {XLSX_TYPE: BINARY, "application/octet-stream": BINARY}, "description": "Excel 工作簿 .xlsx"}
}


def file_route(
    router: APIRouter,
    path: str,
    summary: str,
    *,
    file: FileContent = XLSX,
    problems: Iterable[int] = (401, 403, 404),
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.get`` of an operation answering a file: ``file`` documents its 200 (the .xlsx by default)."""
    return router.get(path, summary=summary, response_class=Response, responses=problem_responses(*problems) | file)


def download(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def upload_region(principal: Principal, region: str | None) -> str:
    """The region an upload is for: the one asked for, else the caller's first region it may write in;
    the caller must be allowed to write there."""
    scope = region or next(iter(principal.regions(WRITE_ROLES) or principal.regions()), None)
    if scope is None:
        raise UnprocessableContent(
            Message("须指定区划", "A region is required"),
            errors=[FieldError.of("region", Message("必填", "required"), pointer="/query/region")],
        )
    require_write(principal, scope, NO_SUCH_REGION)
    return scope


async def upload_content(file: UploadFile) -> bytes:
    """The uploaded bytes, refused when empty or larger than 200 MB."""
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES or not content:
        raise UnprocessableContent(
            Message("文件为空或超过 200 MB", "The file is empty or larger than 200 MB"),
            errors=[FieldError.of("file", Message("文件大小不符", "bad size"), pointer="/body/file")],
        )
    return content


def no_secret(request: Request) -> bytes:
    del request
    return b""


def add_import_routes(
    router: APIRouter,
    jobs: ImportJobs,
    kinds: type[StrEnum],
    default_kind: StrEnum,
    out: type[ImportJobBase],
    *,
    checks: str,
    secret: Callable[[Request], bytes] = no_secret,
) -> None:
    """The import operations on ``router`` for a service's ``kinds`` (``checks``: the rules its upload
    checks, for the documentation; ``secret``: what its row checks hash ID numbers with)."""
    kind_names = " | ".join(k.value for k in kinds)

    @file_route(
        router,
        "/imports/templates/{import_kind}.xlsx",
        "导入模板 the .xlsx template of an import kind: Chinese headers, English names in row 2, dropdowns "
        "for code lists, ID-number and code columns as text",
    )
    async def get_template(
        import_kind: Annotated[kinds, Path(description=f"导入类型 {kind_names}")],  # type: ignore[valid-type]
        principal: Reader,
    ) -> Response:
        kind = str(import_kind.value)  # type: ignore[attr-defined]
        return download(jobs.template_of(kind), XLSX_TYPE, f"{kind}-template.xlsx")

    @router.post(
        "/imports",
        summary="上传导入 upload an .xlsx or .csv (UTF-8, UTF-8 with BOM or GB18030) to import in the background: "
        f"every cell checked ({checks}), nothing written unless all are good "
        "(mode=all_or_nothing) or the good rows (mode=good_rows)",
        description=(
            "202 with `Location: /v1/imports/{id}` and the job; poll it for progress. The same bytes already "
            "imported for this kind and region answer 200 with that job and `duplicate_of` set: a file is applied "
            "once. `region` (default: the caller's first region it may write in) scopes the job and its rows."
        ),
        status_code=202,
        response_model=out,
        responses=problem_responses(401, 403, 404, 413, 422) | {200: {"description": "已导入过 the existing job"}},
    )
    async def upload(
        request: Request,
        response: Response,
        principal: Writer,
        session: SessionDep,
        file: Annotated[UploadFile, File(description="文件 the .xlsx or .csv")],
        kind: Annotated[kinds, Query(description="导入类型")] = default_kind,  # type: ignore[valid-type]
        mode: Annotated[ImportMode, Query(description="导入方式")] = ImportMode.all_or_nothing,
        region: Annotated[RegionCode | None, Query(description="区划 the region the upload is for")] = None,
    ) -> Any:
        scope = upload_region(principal, region)
        content = await upload_content(file)
        job, duplicate = await jobs.submit(
            session,
            request.app.state.engine,
            request.app.state.sessionmaker,
            principal,
            kind=str(kind.value),  # type: ignore[attr-defined]
            mode=mode,
            region=scope,
            file_name=file.filename or "upload",
            content=content,
            secret=secret(request),
        )
        response.headers["Location"] = f"/v1/imports/{job.id}"
        if duplicate:
            response.status_code = 200
        return job

    @paged_route(
        router,
        "/imports",
        out,
        "imports",
        summary="导入任务列表 import jobs of the caller's regions, newest first; pull sync with `updated_since`",
    )
    async def list_jobs(at: PageAt, principal: Reader, updated_since: UpdatedSince = None) -> Page[Any]:
        return await jobs.list_jobs(at, principal, updated_since)

    @router.get(
        "/imports/{job_id}",
        summary="导入任务 an import job: status, progress, the first 100 bad cells",
        response_model=out,
    )
    async def get_job(job_id: JobId, principal: Reader, session: SessionDep) -> Any:
        return await jobs.read_job(session, principal, job_id)

    @paged_route(
        router,
        "/imports/{job_id}/errors",
        ImportErrorOut,
        "import-errors",
        summary="导入错误 every bad cell of a job (row, column, header, value, rule, reason zh+en), paged",
        problems=(400, 401, 403, 404),
    )
    async def list_errors(at: PageAt, job_id: JobId, principal: Reader) -> Page[ImportErrorOut]:
        return await jobs.list_errors(at, principal, job_id)

    @file_route(
        router,
        "/imports/{job_id}/errors.xlsx",
        "错误标注工作簿 the uploaded workbook (for a CSV, an .xlsx of it) with each bad cell filled and "
        "commented with its reason and rule",
    )
    async def errors_workbook(job_id: JobId, principal: Reader, session: SessionDep) -> Response:
        content = await jobs.marked_workbook(session, principal, job_id)
        return download(content, XLSX_TYPE, f"import-{job_id}-errors.xlsx")
