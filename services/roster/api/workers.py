"""Workers (one record per person, found by ID number; leaving and re-hiring add employment periods to
it), their posts, and the audited path to personal data. Hiring checks the county's quota (S5); posts
check P2/P3 at every date. Every read derives the status as of ``as_of`` (H4, H6; see ``lifecycle``)."""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.roster import employment, hiring, personal_data, posts, worker_export, worker_lists
from services.roster.models import Worker
from services.roster.schemas import (
    CertificateLevel,
    IdNumberLookup,
    PersonalData,
    PersonalDataBatch,
    PersonalDataReadOut,
    PersonalDataRequest,
    PostAssign,
    PostOut,
    WorkerCreate,
    WorkerOut,
    WorkerPatch,
    WorkerStatus,
)
from services.roster.state import id_number_secret
from services.roster.worker_access import visible_worker, writable_worker
from services.roster.worker_lists import WorkerFilters
from services.roster.worker_views import post_out, worker_out
from shared.auth import Principal, Role, require
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker as Reader
from shared.dependencies import WithinRegion, Writer
from shared.exports import (
    EXPORT_BATCH,
    ExportDep,
    ExportFormat,
    Streamed,
    columns_of,
    copy_csv_response,
    export_response,
    xlsx_rows_response,
)
from shared.list_answers import list_route, paged_route
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageAt
from shared.problems import problem_responses
from shared.sync import UpdatedSince
from shared.vocabulary import Post

router = APIRouter(prefix="/v1", tags=["workers"], responses=problem_responses(401, 403, 404))
WORKER_COLUMNS = columns_of(WorkerOut)
AsOf = Annotated[
    date | None,
    Query(description="状态日期 status and current post as of this date (Asia/Shanghai business date; default today)"),
]


async def tagged_worker(
    session: AsyncSession, worker: Worker, response: Response, as_of: date | None = None
) -> WorkerOut:
    """The worker as answered (as of a date), its version in the ETag (sent back in If-Match to change it)."""
    response.headers["ETag"] = etag(worker.id, worker.version)
    return await worker_out(session, worker, as_of)


@router.post(
    "/workers",
    summary="录用社工 hire a worker, or re-hire one who has left: ID number checked, quota checked (S5), "
    "probation starts (H4)",
    description=(
        "One person, one record: a person whose ID number is on record and whose last employment ended before "
        "`hire_date` is re-hired on that record (same worker id, a new employment period with its own probation; "
        "`worker.hired` again). A person still employed (or leaving on or after `hire_date`) is a 409."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def hire_worker(
    body: WorkerCreate, principal: Writer, session: SessionDep, request: Request, response: Response
) -> WorkerOut:
    worker = await hiring.hire(session, principal, body, id_number_secret(request))
    response.headers["Location"] = f"/v1/workers/{worker.id}"
    return await tagged_worker(session, worker, response)


@paged_route(
    router,
    "/workers",
    WorkerOut,
    summary="社工列表 workers in the caller's region, filtered (ID numbers and phones masked); as CSV, xlsx or "
    "NDJSON too; pull sync with `updated_since`",
    description=(
        "Keyset pages (`cursor`). **Export**: `format=csv|xlsx|ndjson` (or `Accept`) streams the whole filtered list "
        "(same rows and masking as the JSON pages); `unmasked=true` shows the ID numbers and phones the caller's "
        "personal-data right covers, every batch audited (`/v1/personal-data-reads`) before it is sent. "
        "**Pull sync**: `updated_since` returns the workers whose last change committed at or after that time, in "
        "commit order; keep passing `updated_since` with `next_cursor` (always set in this mode) to follow on: a "
        "change that commits late comes after the cursor, never behind it. Leaving is a change like any other "
        "(`status: left`, `left_date`, `updated_at`)."
    ),
)
async def list_workers(
    principal: Reader,
    session: SessionDep,
    request: Request,
    export: ExportDep,
    region: WithinRegion = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=50,
            description="姓名 names starting with this: a surname (张) or a full name (张伟); indexed",
        ),
    ] = None,
    status: Annotated[WorkerStatus | None, Query(description="人员状态 status as of `as_of` (H4, H6)")] = None,
    certificate_level: CertificateLevel | None = None,
    post: Annotated[Post | None, Query(description="当前岗位 post held on `as_of`")] = None,
    grade: Annotated[int | None, Query(ge=1, le=18, description="当前等级 grade held on `as_of`")] = None,
    hired_from: date | None = None,
    hired_to: date | None = None,
    as_of: AsOf = None,
    updated_since: UpdatedSince = None,
    unmasked: Annotated[
        bool,
        Query(description="不打码导出 exports only: unmasked ID numbers and phones (personal-data right, audited)"),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[WorkerOut] | StreamingResponse:
    filters = WorkerFilters(
        region, status, certificate_level, post, grade, hired_from, hired_to, as_of, updated_since, name=name
    )
    if export is None:
        return await worker_lists.workers_page(PageAt(session, cursor, limit), principal, filters)
    if unmasked:
        worker_lists.require_unmask_right(principal)
    elif updated_since is None and export.format == ExportFormat.csv:  # rendered by PostgreSQL, COPY (issue #16)
        statement = worker_export.workers_csv_statement(principal, filters)
        return await copy_csv_response(request, export, statement, WORKER_COLUMNS, "workers")
    elif updated_since is None and export.format == ExportFormat.xlsx:  # cells rendered by PostgreSQL
        statement = worker_export.workers_csv_statement(principal, filters, typed=True)
        return await xlsx_rows_response(request, export, statement, WORKER_COLUMNS, "workers")
    elif updated_since is None:  # one query through a server-side cursor (issue #16)
        rows = functools.partial(worker_lists.workers_stream, principal=principal, f=filters, batch=EXPORT_BATCH)
        return await export_response(request, export, Streamed(rows), WORKER_COLUMNS, "workers")

    async def batch(batch_session: AsyncSession, after: str | None) -> tuple[list[WorkerOut], str | None]:
        page = await worker_lists.workers_page(
            PageAt(batch_session, after, EXPORT_BATCH), principal, filters, unmask=unmasked
        )
        return page.items, None if len(page.items) < EXPORT_BATCH else page.next_cursor

    return await export_response(request, export, batch, WORKER_COLUMNS, "workers")


@router.post(
    "/workers:personal-data",
    summary="批量查看完整个人信息 unmasked ID numbers and phones of up to 1,000 workers: personal-data right "
    "required, one audit record naming them all",
    description=(
        "All or nothing: an id the caller cannot see is a 404 (as if it did not exist), one outside the caller's "
        "personal-data right a 403; each error points at the id's place in `worker_ids`."
    ),
)
async def read_personal_data_batch(
    body: PersonalDataRequest, principal: Reader, session: SessionDep
) -> PersonalDataBatch:
    return PersonalDataBatch(items=await personal_data.read_many(session, principal, body.worker_ids))


@router.get("/workers/{worker_id}", summary="查看社工 one worker (masked)")
async def get_worker(
    worker_id: uuid.UUID, principal: Reader, session: SessionDep, response: Response, as_of: AsOf = None
) -> WorkerOut:
    worker = await visible_worker(session, principal, worker_id)
    return await tagged_worker(session, worker, response, as_of)


@router.post(
    "/workers/lookup",
    summary="按身份证号查找 find a worker by ID number (keyed hash; the number is not stored searchable)",
)
async def lookup_worker(
    body: IdNumberLookup, principal: Reader, session: SessionDep, request: Request, as_of: AsOf = None
) -> WorkerOut:
    worker = await hiring.find_by_id_number(session, principal, body.id_number, id_number_secret(request))
    return await worker_out(session, worker, as_of)


@router.get(
    "/workers/{worker_id}/personal-data",
    summary="查看完整个人信息 unmasked ID number and phone: personal_data right required, every read audited",
)
async def read_personal_data(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> PersonalData:
    return await personal_data.read_one(session, principal, worker_id)


@router.patch(
    "/workers/{worker_id}",
    summary="修改社工信息 change a worker's record (If-Match); leaving needs the leave date (inclusive)",
    description=(
        "Leaving (`status: left` with `left_date`, or `left_date` alone) ends the current employment on the leave "
        "date, the last day worked and paid (C6): posts and contracts still running then end from the next day "
        "(exclusive end = left_date + 1) and `worker.left` is published; the status is `left` from the next day. "
        "Other statuses are not set by hand: they follow from the dates (H4 probation, H6 loans)."
    ),
    responses=problem_responses(409, 412, 428),
)
async def update_worker(
    worker_id: uuid.UUID,
    body: WorkerPatch,
    principal: Writer,
    session: SessionDep,
    request: Request,
    response: Response,
) -> WorkerOut:
    worker = await writable_worker(session, principal, worker_id)
    check_if_match(request, worker.id, worker.version)
    worker = await employment.change_worker(session, worker, body)
    return await tagged_worker(session, worker, response)


@router.post(
    "/workers/{worker_id}/posts",
    summary="任职 assign a post and grade from a date (P1–P3, C4); the post held before ends that day",
    status_code=201,
)
async def assign_post(worker_id: uuid.UUID, body: PostAssign, principal: Writer, session: SessionDep) -> PostOut:
    worker = await writable_worker(session, principal, worker_id)
    assignment = await posts.assign_post(session, worker, body)
    return post_out(assignment)


@list_route(router, "/workers/{worker_id}/posts", PostOut, "posts", summary="任职历史 post history")
async def list_posts(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> list[PostOut]:
    rows = await posts.post_history(session, await visible_worker(session, principal, worker_id))
    return [post_out(p) for p in rows]


@paged_route(
    router,
    "/personal-data-reads",
    PersonalDataReadOut,
    "personal-data-reads",
    summary="个人信息查看记录 the audit of unmasked reads, newest first (auditors, province admins)",
)
async def list_personal_data_reads(
    at: PageAt,
    principal: Annotated[Principal, require(Role.auditor, Role.province_admin)],
    worker_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=200, description="读取人 who read it")] = None,
    since: Annotated[datetime | None, Query(description="起始时间 ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="截止时间 ISO 8601, exclusive")] = None,
    updated_since: UpdatedSince = None,
) -> Page[PersonalDataReadOut]:
    return await personal_data.reads_page(at, principal, worker_id, actor, since, until, updated_since)
