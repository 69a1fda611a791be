"""Bulk import and export of the roster (issue #13): templates, uploads run as background jobs, their
errors (listed, or the uploaded workbook with the bad cells marked), and the workforce export in the
import format."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, Request, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.roster import imports, workforce_export, workforce_format
from services.roster.schemas import ImportErrorOut, ImportJobOut, ImportKind, ImportMode
from shared.business_time import business_today
from shared.db import SessionDep
from shared.dependencies import Reader, Writer
from shared.exports import EXPORT_RESPONSES, ExportDep, page_or_file
from shared.i18n import Message
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from shared.problems import FieldError, UnprocessableContent, problem_responses
from shared.regions import RegionCode
from shared.scoping import NO_SUCH_REGION, WRITE_ROLES, require_write
from shared.spreadsheets import CSV_TYPE, XLSX_TYPE, csv_bytes, workbook

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(401, 403, 404))
JobId = Annotated[uuid.UUID, Path(description="导入任务编号 import job id")]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
BINARY = {"schema": {"type": "string", "format": "binary"}}
# The workbook's own type, and octet-stream for generated clients that read any file as bytes.
XLSX: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_TYPE: BINARY, "application/octet-stream": BINARY}, "description": "Excel 工作簿 .xlsx"}
}
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": BINARY}, "description": "CSV, UTF-8 with BOM"}}


def _download(content: bytes, media_type: str, name: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/imports/templates/{import_kind}.xlsx",
    summary="导入模板 the .xlsx template of an import kind: Chinese headers, English names in row 2, dropdowns "
    "for code lists, ID-number and code columns as text",
    response_class=Response,
    responses=problem_responses(401, 403, 404) | XLSX,
)
async def get_template(
    import_kind: Annotated[ImportKind, Path(description="导入类型 workforce | regions")], principal: Reader
) -> Response:
    return _download(imports.template_of(import_kind), XLSX_TYPE, f"{import_kind.value}-template.xlsx")


@router.post(
    "/imports",
    summary="上传导入 upload an .xlsx or .csv (UTF-8, UTF-8 with BOM or GB18030) to import in the background: "
    "every cell checked (workforce: GB11643, S1, S5 now, P2–P4, C4, H3, H4; regions: GB/T 2260, S1, S3), "
    "nothing written unless all are good "
    "(mode=all_or_nothing) or the good rows (mode=good_rows)",
    description=(
        "202 with `Location: /v1/imports/{id}` and the job; poll it for progress. The same bytes already "
        "imported for this kind and region answer 200 with that job and `duplicate_of` set: a file is applied "
        "once. `region` (default: the caller's first region it may write in) scopes the job and its rows."
    ),
    status_code=202,
    responses=problem_responses(401, 403, 404, 413, 422) | {200: {"description": "已导入过 the existing job"}},
)
async def upload(
    request: Request,
    response: Response,
    principal: Writer,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="文件 the .xlsx or .csv")],
    kind: Annotated[ImportKind, Query(description="导入类型")] = ImportKind.workforce,
    mode: Annotated[ImportMode, Query(description="导入方式")] = ImportMode.all_or_nothing,
    region: Annotated[RegionCode | None, Query(description="区划 the region the upload is for")] = None,
) -> ImportJobOut:
    scope = region or next(iter(principal.regions(WRITE_ROLES) or principal.regions()), None)
    if scope is None:
        raise UnprocessableContent(
            Message("须指定区划", "A region is required"),
            errors=[FieldError.of("region", Message("必填", "required"), pointer="/query/region")],
        )
    require_write(principal, scope, NO_SUCH_REGION)
    content = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES or not content:
        raise UnprocessableContent(
            Message("文件为空或超过 200 MB", "The file is empty or larger than 200 MB"),
            errors=[FieldError.of("file", Message("文件大小不符", "bad size"), pointer="/body/file")],
        )
    job, duplicate = await imports.submit(
        session,
        request.app.state.engine,
        request.app.state.sessionmaker,
        principal,
        kind=kind,
        mode=mode,
        region=scope,
        file_name=file.filename or "upload",
        content=content,
        secret=request.app.state.settings.id_number_hash_key.get_secret_value().encode(),
    )
    response.headers["Location"] = f"/v1/imports/{job.id}"
    if duplicate:
        response.status_code = 200
    return job


@router.get(
    "/imports",
    summary="导入任务列表 import jobs of the caller's regions, newest first",
    response_model=Page[ImportJobOut],
    responses=problem_responses(400, 401, 403) | EXPORT_RESPONSES,
)
async def list_jobs(
    request: Request,
    export: ExportDep,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ImportJobOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[ImportJobOut]:
        return await imports.list_jobs(session, principal, cursor, limit)

    return await page_or_file(request, export, session, cursor, limit, page, ImportJobOut, "imports")  # type: ignore[no-any-return]


@router.get(
    "/imports/{job_id}",
    summary="导入任务 an import job: status, progress, the first 100 bad cells",
)
async def get_job(job_id: JobId, principal: Reader, session: SessionDep) -> ImportJobOut:
    job = await imports.visible_job(session, principal, job_id)
    return imports.job_out(job, await imports.first_errors(session, job))


@router.get(
    "/imports/{job_id}/errors",
    summary="导入错误 every bad cell of a job (row, column, header, value, rule, reason zh+en), paged",
    response_model=Page[ImportErrorOut],
    responses=problem_responses(400, 401, 403, 404) | EXPORT_RESPONSES,
)
async def list_errors(
    request: Request,
    export: ExportDep,
    job_id: JobId,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ImportErrorOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[ImportErrorOut]:
        return await imports.list_errors(session, principal, job_id, cursor, limit)

    return await page_or_file(request, export, session, cursor, limit, page, ImportErrorOut, "import-errors")  # type: ignore[no-any-return]


@router.get(
    "/imports/{job_id}/errors.xlsx",
    summary="错误标注工作簿 the uploaded workbook (for a CSV, an .xlsx of it) with each bad cell filled and "
    "commented with its reason and rule",
    response_class=Response,
    responses=problem_responses(401, 403, 404) | XLSX,
)
async def errors_workbook(job_id: JobId, principal: Reader, session: SessionDep) -> Response:
    job = await imports.visible_job(session, principal, job_id)
    content = await imports.marked_workbook(session, job)
    return _download(content, XLSX_TYPE, f"import-{job.id}-errors.xlsx")


@router.get(
    "/workforce.xlsx",
    summary="导出社工 the workers of the caller's region in the import format (.xlsx); ID numbers and phones "
    "masked unless the caller holds the personal-data right (then full, every worker's read audited)",
    response_class=Response,
    responses=problem_responses(401, 403) | XLSX,
)
async def export_xlsx(
    principal: Reader,
    session: SessionDep,
    region: Annotated[RegionCode | None, Query(description="区划 within this region")] = None,
) -> Response:
    rows = await workforce_export.workforce_rows(session, principal, region, business_today())
    return _download(workbook(workforce_format.COLUMNS, "社区工作者 workforce", rows), XLSX_TYPE, "workforce.xlsx")


@router.get(
    "/workforce.csv",
    summary="导出社工 the same as CSV (UTF-8 with BOM)",
    response_class=Response,
    responses=problem_responses(401, 403) | CSV,
)
async def export_csv(
    principal: Reader,
    session: SessionDep,
    region: Annotated[RegionCode | None, Query(description="区划 within this region")] = None,
) -> Response:
    rows = await workforce_export.workforce_rows(session, principal, region, business_today())
    return _download(csv_bytes(workforce_format.COLUMNS, rows), CSV_TYPE, "workforce.csv")
