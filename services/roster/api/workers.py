"""Workers (one record per person, found by ID number; leaving and re-hiring add employment periods to
it), their posts, and the audited path to personal data. Hiring checks the county's quota (S5); posts
check P2/P3 at every date. Every read derives the status as of ``as_of`` (H4, H6; see ``lifecycle``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.roster import personal_data, posts, worker_lists
from services.roster.domain import lifecycle
from services.roster.domain.careers import probation_end
from services.roster.domain.id_numbers import InvalidIdNumber, ResidentId, id_number_key, parse_id_number
from services.roster.domain.working_age import birth_date_problem, working_age_problem
from services.roster.errors import invalid
from services.roster.lifecycle import Lifecycles, business_today, worker_event
from services.roster.models import (
    Contract,
    Employment,
    PersonalDataRead,
    PostAssignment,
    Worker,
    events,
)
from services.roster.quota_use import check_quota
from services.roster.regions import NO_SUCH_REGION, staffing_policy, visible_region
from services.roster.schemas import (
    CertificateLevel,
    IdNumberLookup,
    PersonalData,
    PersonalDataBatch,
    PersonalDataReadOut,
    PersonalDataRequest,
    Post,
    PostAssign,
    PostOut,
    WorkerCreate,
    WorkerOut,
    WorkerPatch,
    WorkerStatus,
)
from services.roster.worker_access import NO_SUCH_WORKER, visible_worker, writable_worker
from services.roster.worker_lists import WorkerFilters
from services.roster.worker_views import post_out, worker_out
from shared.auth import Principal, Role, require
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker as Reader
from shared.dependencies import Writer
from shared.events import record_event
from shared.exports import (
    EXPORT_BATCH,
    EXPORT_RESPONSES,
    ExportDep,
    columns_of,
    export_response,
    exported,
    exported_pages,
)
from shared.i18n import Message
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import Conflict, FieldError, NotFound, UnprocessableContent, problem_responses
from shared.regions import RegionCode, RegionLevel, normalise
from shared.scoping import path_filter, require_write, sees_worker

router = APIRouter(prefix="/v1", tags=["workers"])
WORKER_COLUMNS = columns_of(WorkerOut)
ALREADY_RECORDED = Message(
    "此人已有社工档案（全省唯一），且尚未离职",
    "This person already has a worker record (one per province) and has not left",
)
AsOf = Annotated[
    date | None,
    Query(description="状态日期 status and current post as of this date (Asia/Shanghai business date; default today)"),
]


def _id_number_error(exc: InvalidIdNumber) -> UnprocessableContent:
    return UnprocessableContent(
        Message("身份证号无效：{zh}", "Invalid ID number: {en}"),
        errors=[FieldError.of("id_number", Message(exc.reason_zh, exc.reason_en), type="id_number")],
        zh=exc.reason_zh,
        en=exc.reason_en,
    )


def check_person(body: WorkerCreate, resident: ResidentId) -> None:
    """The ID number's birth date is a person's; the record agrees with it; working age on the hire date."""
    problem = birth_date_problem(resident.birth_date, business_today())
    if problem is not None:
        raise invalid("id_number", problem.zh, problem.en)
    if body.birth_date is not None and body.birth_date != resident.birth_date:
        raise invalid(
            "birth_date",
            f"与身份证号中的出生日期 {resident.birth_date} 不符",
            f"does not agree with the ID number's birth date {resident.birth_date}",
        )
    if body.sex is not None and body.sex.value != resident.sex:
        raise invalid("sex", "与身份证号中的性别不符", f"does not agree with the ID number's sex ({resident.sex})")
    problem = working_age_problem(resident.birth_date, resident.sex, body.hire_date)
    if problem is not None:
        raise invalid(problem.field, problem.zh, problem.en)


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
    response_model=WorkerOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def hire_worker(
    body: WorkerCreate, principal: Writer, session: SessionDep, request: Request, response: Response
) -> WorkerOut:
    try:
        resident = parse_id_number(body.id_number)
    except InvalidIdNumber as exc:
        raise _id_number_error(exc) from exc
    check_person(body, resident)
    community = await visible_region(session, principal, body.community_code)
    if community.level != RegionLevel.community:
        raise invalid("community_code", "应为社区（村）代码", "must be a community or village", "S1")
    require_write(principal, community.code, NO_SUCH_REGION)
    key = id_number_key(resident.number, request.app.state.settings.id_number_hash_key.get_secret_value().encode())
    worker = await session.scalar(select(Worker).where(Worker.id_number_key == key).with_for_update())
    if worker is not None:
        periods = (await Lifecycles.load(session, [worker.id])).periods(worker.id)
        if not lifecycle.may_rehire(periods, body.hire_date):
            raise Conflict(ALREADY_RECORDED)
    await check_quota(session, community.code[:6], body.hire_date)  # S5 on every day from the hire date
    fields = body.model_dump(exclude={"id_number", "community_code", "hire_date", "birth_date", "sex"})
    if worker is None:
        worker = Worker(
            id_number_key=key,
            id_number=resident.number,
            sex=resident.sex,
            birth_date=resident.birth_date,
            status=WorkerStatus.pending.value,  # replaced below by the status derived for today
            **fields,
        )
        session.add(worker)
    else:  # re-hire: the same person record, a new employment (its probation starts again, H4)
        for field, value in fields.items():
            setattr(worker, field, value)
        worker.left_date = None
        worker.version += 1
        worker.updated_at = datetime.now(UTC)
    worker.community_code = community.code
    worker.community_path = normalise(community.code)
    worker.hire_date = body.hire_date
    try:
        await session.flush()
    except IntegrityError as exc:  # the same person hired twice at once: the unique key decides
        raise Conflict(ALREADY_RECORDED) from exc
    policy = await staffing_policy(session, community.code, body.hire_date.year)
    session.add(
        Employment(
            worker_id=worker.id,
            hire_date=body.hire_date,
            probation_end=probation_end(body.hire_date, policy),  # H4
        )
    )
    await session.flush()
    await session.refresh(worker)
    data = await worker_event(session, worker)
    await session.flush()
    await record_event(session, events, "worker.hired", f"worker/{worker.id}", data)
    response.headers["ETag"] = etag(worker.id, worker.version)
    response.headers["Location"] = f"/v1/workers/{worker.id}"
    return await worker_out(session, worker)


@router.get(
    "/workers",
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
    response_model=Page[WorkerOut],
    responses=problem_responses(400, 401, 403) | EXPORT_RESPONSES,
)
async def list_workers(
    principal: Reader,
    session: SessionDep,
    request: Request,
    export: ExportDep,
    region: Annotated[RegionCode | None, Query(description="区划 within this region")] = None,
    status: Annotated[WorkerStatus | None, Query(description="人员状态 status as of `as_of` (H4, H6)")] = None,
    certificate_level: CertificateLevel | None = None,
    post: Annotated[Post | None, Query(description="当前岗位 post held on `as_of`")] = None,
    grade: Annotated[int | None, Query(ge=1, le=18, description="当前等级 grade held on `as_of`")] = None,
    hired_from: date | None = None,
    hired_to: date | None = None,
    as_of: AsOf = None,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(
            description="变更起 pull sync: workers whose last change committed at or after this time, in commit order"
        ),
    ] = None,
    unmasked: Annotated[
        bool,
        Query(description="不打码导出 exports only: unmasked ID numbers and phones (personal-data right, audited)"),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[WorkerOut] | StreamingResponse:
    filters = WorkerFilters(region, status, certificate_level, post, grade, hired_from, hired_to, as_of, updated_since)
    if export is None:
        return await worker_lists.workers_page(session, principal, filters, limit, cursor)
    if unmasked:
        worker_lists.require_unmask_right(principal)

    async def batch(batch_session: AsyncSession, after: str | None) -> tuple[list[WorkerOut], str | None]:
        page = await worker_lists.workers_page(batch_session, principal, filters, EXPORT_BATCH, after, unmask=unmasked)
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
    response_model=PersonalDataBatch,
    responses=problem_responses(401, 403, 404),
)
async def read_personal_data_batch(
    body: PersonalDataRequest, principal: Reader, session: SessionDep
) -> PersonalDataBatch:
    return PersonalDataBatch(items=await personal_data.read_many(session, principal, body.worker_ids))


@router.get(
    "/workers/{worker_id}",
    summary="查看社工 one worker (masked)",
    response_model=WorkerOut,
    responses=problem_responses(401, 403, 404),
)
async def get_worker(
    worker_id: uuid.UUID, principal: Reader, session: SessionDep, response: Response, as_of: AsOf = None
) -> WorkerOut:
    worker = await visible_worker(session, principal, worker_id)
    response.headers["ETag"] = etag(worker.id, worker.version)
    return await worker_out(session, worker, as_of)


@router.post(
    "/workers/lookup",
    summary="按身份证号查找 find a worker by ID number (keyed hash; the number is not stored searchable)",
    response_model=WorkerOut,
    responses=problem_responses(401, 403, 404),
)
async def lookup_worker(
    body: IdNumberLookup, principal: Reader, session: SessionDep, request: Request, as_of: AsOf = None
) -> WorkerOut:
    try:
        resident = parse_id_number(body.id_number)
    except InvalidIdNumber as exc:
        raise _id_number_error(exc) from exc
    key = id_number_key(resident.number, request.app.state.settings.id_number_hash_key.get_secret_value().encode())
    worker = await session.scalar(select(Worker).where(Worker.id_number_key == key))
    if worker is None or not sees_worker(principal, worker.id, worker.community_code):
        raise NotFound(NO_SUCH_WORKER)
    return await worker_out(session, worker, as_of)


@router.get(
    "/workers/{worker_id}/personal-data",
    summary="查看完整个人信息 unmasked ID number and phone: personal_data right required, every read audited",
    response_model=PersonalData,
    responses=problem_responses(401, 403, 404),
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
    response_model=WorkerOut,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
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
    changed = sorted(body.model_dump(exclude_unset=True))
    changes = body.model_dump(exclude_unset=True, exclude={"status", "left_date"})
    if "status" in changed and body.status != WorkerStatus.left:
        raise invalid(
            "status",
            "人员状态由日期决定（试用期 H4、借用 H6），只可登记离职",
            "the status follows from the dates (H4 probation, H6 loans); only leaving can be recorded",
            "H4",
        )
    leaving = body.status == WorkerStatus.left or body.left_date is not None
    if "left_date" in changed and body.left_date is None:
        raise invalid(
            "left_date", "离职日期不能清除；再次录用请重新录用", "a leave is not undone; hire the person again"
        )
    if leaving:
        if body.left_date is None:
            raise invalid("left_date", "离职须填离职日期", "leaving needs the leaving date (C6 prorates to it)")
        await _end_employment(session, worker, body.left_date)
    for field, value in changes.items():
        setattr(worker, field, value)
    worker.version += 1
    worker.updated_at = datetime.now(UTC)
    await session.flush()
    data = await worker_event(session, worker)
    await session.flush()
    kind = "worker.left" if leaving else "worker.updated"
    await record_event(session, events, kind, f"worker/{worker.id}", data | {"changed": changed})
    response.headers["ETag"] = etag(worker.id, worker.version)
    return await worker_out(session, worker)


async def _end_employment(session: AsyncSession, worker: Worker, left_date: date) -> None:
    """Leaving on ``left_date`` (inclusive): the open employment ends then; posts and contracts running
    after it end from the next day."""
    current = await session.scalar(
        select(Employment).where(Employment.worker_id == worker.id, Employment.left_date.is_(None))
    )
    if current is None:
        raise Conflict(
            Message("已于 {left_date} 离职", "The worker already left on {left_date}"), left_date=worker.left_date
        )
    if left_date < current.hire_date:
        raise invalid("left_date", f"早于入职日期 {current.hire_date}", f"before the hire date {current.hire_date}")
    periods: list[PostAssignment | Contract] = [
        *(await session.scalars(select(PostAssignment).where(PostAssignment.worker_id == worker.id))),
        *(await session.scalars(select(Contract).where(Contract.worker_id == worker.id))),
    ]
    for period in periods:
        try:
            end = lifecycle.cut_at_leaving(period.start_date, period.end_date, left_date)
        except ValueError:
            raise invalid(
                "left_date",
                f"有自 {period.start_date} 起的任职或合同，晚于离职日期",
                f"a post or contract starts on {period.start_date}, after the leave date",
            ) from None
        if end is not None:
            period.end_date = end
    current.left_date = left_date
    worker.left_date = left_date


@router.post(
    "/workers/{worker_id}/posts",
    summary="任职 assign a post and grade from a date (P1–P3, C4); the post held before ends that day",
    status_code=201,
    response_model=PostOut,
    responses=problem_responses(401, 403, 404),
)
async def assign_post(worker_id: uuid.UUID, body: PostAssign, principal: Writer, session: SessionDep) -> PostOut:
    worker = await writable_worker(session, principal, worker_id)
    assignment = await posts.assign_post(session, worker, body)
    return post_out(assignment)


@router.get(
    "/workers/{worker_id}/posts",
    summary="任职历史 post history",
    response_model=list[PostOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def list_posts(
    request: Request, export: ExportDep, worker_id: uuid.UUID, principal: Reader, session: SessionDep
) -> list[PostOut] | StreamingResponse:
    worker = await visible_worker(session, principal, worker_id)
    rows = (
        await session.scalars(
            select(PostAssignment).where(PostAssignment.worker_id == worker.id).order_by(PostAssignment.start_date)
        )
    ).all()
    return await exported(request, export, [post_out(p) for p in rows], PostOut, "posts")


@router.get(
    "/personal-data-reads",
    summary="个人信息查看记录 the audit of unmasked reads, newest first (auditors, province admins)",
    response_model=Page[PersonalDataReadOut],
    responses=problem_responses(400, 401, 403) | EXPORT_RESPONSES,
)
async def list_personal_data_reads(
    request: Request,
    export: ExportDep,
    principal: Annotated[Principal, require(Role.auditor, Role.province_admin)],
    session: SessionDep,
    worker_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PersonalDataReadOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[PersonalDataReadOut]:
        filters = {"worker_id": worker_id}
        scope = path_filter(principal, PersonalDataRead.region, frozenset({Role.auditor, Role.province_admin}))
        query = select(PersonalDataRead).where(scope).order_by(PersonalDataRead.id.desc())
        if worker_id:
            query = query.where(PersonalDataRead.worker_ids.contains([worker_id]))  # single and bulk reads
        if cursor:
            (before,) = decode_cursor(cursor, filters, (int,))
            query = query.where(PersonalDataRead.id < int(before))
        rows, more = await fetch_page(session, query, limit)
        items = [
            PersonalDataReadOut(
                id=r.id,
                occurred_at=r.occurred_at,
                actor=r.actor,
                worker_id=r.worker_id,
                worker_ids=r.worker_ids,
                region=r.region,
                fields=r.fields,
                request_id=r.request_id,
            )
            for r in rows
        ]
        return Page[PersonalDataReadOut](
            items=items, next_cursor=encode_cursor([rows[-1].id], filters) if more else None
        )

    if export is not None:
        return await exported_pages(request, export, page, PersonalDataReadOut, "personal-data-reads")
    return await page(session, cursor, limit)
