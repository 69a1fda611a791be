"""Workers (one record per person, found by ID number; leaving and re-hiring add employment periods to
it), their posts, and the audited path to personal data. Hiring checks the county's quota (S5); posts
check P2/P3 at every date. Every read derives the status as of ``as_of`` (H4, H6; see ``lifecycle``)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster import employment, hiring, posts
from services.roster.lifecycle import Lifecycles, business_today, status_expression
from services.roster.models import (
    PersonalDataRead,
    PostAssignment,
    Worker,
)
from services.roster.schemas import (
    CertificateLevel,
    EmploymentOut,
    IdNumberLookup,
    PersonalData,
    PersonalDataReadOut,
    Post,
    PostAssign,
    PostOut,
    WorkerCreate,
    WorkerOut,
    WorkerPatch,
    WorkerStatus,
)
from services.roster.state import id_number_secret
from services.roster.worker_access import held_on, visible_worker, writable_worker
from shared.auth import Principal, Role, require
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker as Reader
from shared.dependencies import Writer
from shared.i18n import Message
from shared.masking import mask_id_number, mask_phone
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import Forbidden, problem_responses
from shared.regions import RegionCode, scope_prefix
from shared.request_context import current_request_id
from shared.scoping import own_worker_filter, path_filter

router = APIRouter(prefix="/v1", tags=["workers"])
AsOf = Annotated[
    date | None,
    Query(description="状态日期 status and current post as of this date (Asia/Shanghai business date; default today)"),
]


def post_out(p: PostAssignment) -> PostOut:
    return PostOut.model_validate(p, from_attributes=True)


async def worker_out(session: AsyncSession, w: Worker, as_of: date | None = None) -> WorkerOut:
    return (await workers_out(session, [w], as_of))[0]


async def workers_out(session: AsyncSession, workers: list[Worker], as_of: date | None = None) -> list[WorkerOut]:
    """A page of workers as of a date: their posts, employments and secondments in one query each."""
    day = as_of or business_today()
    ids = [w.id for w in workers]
    posts = {
        p.worker_id: p
        for p in (
            await session.scalars(select(PostAssignment).where(PostAssignment.worker_id.in_(ids), held_on(day)))
        ).all()
    }
    lifecycles = await Lifecycles.load(session, ids)
    return [worker_view(w, posts.get(w.id), lifecycles, day) for w in workers]


def worker_view(w: Worker, post: PostAssignment | None, lifecycles: Lifecycles, day: date) -> WorkerOut:
    employments = lifecycles.employments(w.id)
    return WorkerOut(
        id=w.id,
        id_number=mask_id_number(w.id_number) or "",
        name=w.name,
        sex=w.sex,
        birth_date=w.birth_date,
        phone=mask_phone(w.phone),
        education=w.education,
        political_status=w.political_status,
        community_code=w.community_code,
        lives_in_community=w.lives_in_community,
        generalist=w.generalist,
        grid_duties=w.grid_duties,
        certificate_level=w.certificate_level,
        certificate_date=w.certificate_date,
        status=WorkerStatus(lifecycles.status_on(w.id, day)),
        status_as_of=day,
        hire_date=w.hire_date,
        left_date=w.left_date,
        probation_end=employments[-1].probation_end if employments else None,
        employments=[
            EmploymentOut(hire_date=e.hire_date, left_date=e.left_date, probation_end=e.probation_end)
            for e in employments
        ],
        career_staff_date=w.career_staff_date,
        career_staff_document=w.career_staff_document,
        current_post=post_out(post) if post else None,
        version=w.version,
    )


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
    worker = await hiring.hire(session, principal, body, id_number_secret(request))
    response.headers["ETag"] = etag(worker.id, worker.version)
    response.headers["Location"] = f"/v1/workers/{worker.id}"
    return await worker_out(session, worker)


@router.get(
    "/workers",
    summary="社工列表 workers in the caller's region, filtered (ID numbers and phones masked)",
    response_model=Page[WorkerOut],
    responses=problem_responses(400, 401, 403),
)
async def list_workers(
    principal: Reader,
    session: SessionDep,
    region: Annotated[RegionCode | None, Query(description="区划 within this region")] = None,
    status: Annotated[WorkerStatus | None, Query(description="人员状态 status as of `as_of` (H4, H6)")] = None,
    certificate_level: CertificateLevel | None = None,
    post: Annotated[Post | None, Query(description="当前岗位 post held on `as_of`")] = None,
    grade: Annotated[int | None, Query(ge=1, le=18, description="当前等级 grade held on `as_of`")] = None,
    hired_from: date | None = None,
    hired_to: date | None = None,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[WorkerOut]:
    day = as_of or business_today()
    filters = {
        "as_of": day,
        "region": region,
        "status": status,
        "certificate_level": certificate_level,
        "post": post,
        "grade": grade,
        "from": hired_from,
        "to": hired_to,
    }
    visible = or_(
        path_filter(principal, Worker.community_path), own_worker_filter(principal, Worker.id, Worker.community_path)
    )
    query = select(Worker).where(visible)
    if region:
        query = query.where(Worker.community_path.startswith(scope_prefix(region)))
    if status:
        query = query.where(status_expression(day) == status.value)
    if certificate_level:
        query = query.where(Worker.certificate_level == certificate_level.value)
    if hired_from:
        query = query.where(Worker.hire_date >= hired_from)
    if hired_to:
        query = query.where(Worker.hire_date <= hired_to)
    if post or grade:
        held = select(PostAssignment.worker_id).where(held_on(day))
        if post:
            held = held.where(PostAssignment.post == post.value)
        if grade:
            held = held.where(PostAssignment.grade == grade)
        query = query.where(Worker.id.in_(held))
    if cursor:
        (after,) = decode_cursor(cursor, filters, (uuid.UUID,))
        query = query.where(Worker.id > uuid.UUID(str(after)))
    rows, more = await fetch_page(session, query.order_by(Worker.id), limit)
    items = await workers_out(session, rows, day)
    return Page[WorkerOut](items=items, next_cursor=encode_cursor([str(rows[-1].id)], filters) if more else None)


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
    worker = await hiring.find_by_id_number(session, principal, body.id_number, id_number_secret(request))
    return await worker_out(session, worker, as_of)


@router.get(
    "/workers/{worker_id}/personal-data",
    summary="查看完整个人信息 unmasked ID number and phone: personal_data right required, every read audited",
    response_model=PersonalData,
    responses=problem_responses(401, 403, 404),
)
async def read_personal_data(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> PersonalData:
    worker = await visible_worker(session, principal, worker_id)
    if not principal.may_unmask(worker.community_code):
        raise Forbidden(Message("需要个人信息查看授权", "The personal-data right is required"))
    session.add(
        PersonalDataRead(
            actor=principal.subject,
            worker_id=worker.id,
            region=worker.community_code,
            fields=["id_number", "phone"],
            request_id=current_request_id(),
        )
    )
    return PersonalData(worker_id=worker.id, id_number=worker.id_number, phone=worker.phone)


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
    worker = await employment.change_worker(session, worker, body)
    response.headers["ETag"] = etag(worker.id, worker.version)
    return await worker_out(session, worker)


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
    responses=problem_responses(401, 403, 404),
)
async def list_posts(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> list[PostOut]:
    worker = await visible_worker(session, principal, worker_id)
    rows = (
        await session.scalars(
            select(PostAssignment).where(PostAssignment.worker_id == worker.id).order_by(PostAssignment.start_date)
        )
    ).all()
    return [post_out(p) for p in rows]


@router.get(
    "/personal-data-reads",
    summary="个人信息查看记录 the audit of unmasked reads, newest first (auditors, province admins)",
    response_model=Page[PersonalDataReadOut],
    responses=problem_responses(400, 401, 403),
)
async def list_personal_data_reads(
    principal: Annotated[Principal, require(Role.auditor, Role.province_admin)],
    session: SessionDep,
    worker_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PersonalDataReadOut]:
    filters = {"worker_id": worker_id}
    scope = path_filter(principal, PersonalDataRead.region, frozenset({Role.auditor, Role.province_admin}))
    query = select(PersonalDataRead).where(scope).order_by(PersonalDataRead.id.desc())
    if worker_id:
        query = query.where(PersonalDataRead.worker_id == worker_id)
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
            region=r.region,
            fields=r.fields,
            request_id=r.request_id,
        )
        for r in rows
    ]
    return Page[PersonalDataReadOut](items=items, next_cursor=encode_cursor([rows[-1].id], filters) if more else None)
