"""Recuperation claims (疗休养, C10): paid up to the caps — 400 yuan a day, 5 days, 2,000 yuan per person a
year — with the amount asked and the amount allowed side by side; listed per worker and per county with
the year's amount used and left."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.compensation.domain.policy import PayPolicy
from services.compensation.domain.recuperation import year_left
from services.compensation.models import RecuperationClaim, WorkerProjection
from services.compensation.policies import policy_for
from services.compensation.recuperation import in_year, record_claim, used_per_worker_year
from services.compensation.schemas import MONEY
from shared.auth import Principal, require_for_record
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker as Reader
from shared.exports import EXPORT_RESPONSES, ExportDep, exported_pages
from shared.i18n import Message
from shared.inputs import Money
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import LocalizedFieldError, NotFound, UnprocessableContent, problem_responses
from shared.regions import CountyCode
from shared.scoping import (
    NO_SUCH_WORKER,
    READ_ROLES,
    WRITE_ROLES,
    require_sees,
    require_write,
    sees_worker,
    visible_projected_worker,
)

router = APIRouter(prefix="/v1", tags=["annual"], responses=problem_responses(401, 403, 404))
ClaimId = Annotated[uuid.UUID, Path(description="疗休养记录编号 claim id")]
NO_SUCH_CLAIM = Message("疗休养记录不存在", "No such recuperation claim")


class RecuperationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: uuid.UUID = Field(description="社工编号 worker")
    start_date: date = Field(description="开始日期 start; the claim counts to this year's allowance")
    days: int = Field(ge=1, le=30, description="天数 days (C10: at most 5; more is refused)")
    amount: Money = Field(
        gt=0,
        description="申请金额 cost claimed (C10: allowed ≤ 400 a day, ≤ 2,000 a year), " + MONEY,
    )
    note: str | None = Field(None, max_length=200, description="备注 note")


class ReductionOut(BaseModel):
    rule: str = Field(description="政策规则 C10")
    code: str = Field(description="核减原因 per_day_cap (400 a day) or year_allowance (2,000 a year)")
    zh: str = Field(description="说明（中文）")
    en: str = Field(description="说明（英文） explanation in English")


class RecuperationOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    community_code: str = Field(description="社区 community")
    start_date: date
    days: int = Field(description="天数 days")
    amount_requested: Decimal = Field(description="申请金额 cost claimed, " + MONEY)
    amount_allowed: Decimal = Field(description="核准金额 allowed within the caps (C10), " + MONEY)
    reductions: list[ReductionOut] = Field(description="核减原因 why less was allowed than asked (C10)")
    note: str | None = Field(description="备注 note")
    created_by: str = Field(description="录入人 who recorded it")
    created_at: datetime = Field(description="录入时间 when")
    year: int = Field(description="年度 the allowance year (of the start date)")
    year_used: Decimal = Field(description="本年已用 allowed to the worker this year so far (C10)")
    year_left: Decimal = Field(description="本年剩余 left of the year's allowance (C10: 2,000)")


def claim_out(claim: RecuperationClaim, worker: WorkerProjection, used: Decimal, policy: PayPolicy) -> RecuperationOut:
    return RecuperationOut(
        id=claim.id,
        worker_id=claim.worker_id,
        name=worker.name,
        community_code=worker.community_code,
        start_date=claim.start_date,
        days=claim.days,
        amount_requested=claim.amount_requested,
        amount_allowed=claim.amount_allowed,
        reductions=[ReductionOut.model_validate(r) for r in claim.reductions],
        note=claim.note,
        created_by=claim.created_by,
        created_at=claim.created_at,
        year=claim.start_date.year,
        year_used=used.quantize(Decimal("0.01")),
        year_left=year_left(policy, used),
    )


async def _visible_worker(session: SessionDep, principal: Principal, worker_id: uuid.UUID) -> WorkerProjection:
    return await visible_projected_worker(session, WorkerProjection, principal, worker_id)


@router.post(
    "/recuperation-claims",
    summary="疗休养 record recuperation leave, allowed up to its caps: 400 a day, 5 days, 2,000 a year (C10)",
    description=(
        "疗休养 (C10): a claim dearer than 400 yuan a day is allowed at 400 a day; one larger than what is left "
        "of the year's 2,000 is allowed up to what is left. The amount asked and the amount allowed are kept "
        "side by side with the reasons (`reductions`, zh and en). Refused only what cannot be paid at all: "
        "more than 5 days (422) or nothing left of the year's allowance (409), both naming C10 and the field."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def claim_recuperation(
    body: RecuperationIn,
    principal: Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)],
    session: SessionDep,
    response: Response,
) -> RecuperationOut:
    worker = await _visible_worker(session, principal, body.worker_id)
    require_write(principal, worker.community_code, NO_SUCH_WORKER)
    policy = await policy_for(session, worker.community_code, body.start_date.year)
    claim, left = await record_claim(
        session,
        worker,
        policy,
        start_date=body.start_date,
        days=body.days,
        amount=body.amount,
        note=body.note,
        by=principal.subject,
    )
    response.headers["Location"] = f"/v1/recuperation-claims/{claim.id}"
    return claim_out(claim, worker, policy.recuperation_per_year - left, policy)


@router.get(
    "/recuperation-claims/{claim_id}",
    summary="疗休养记录 one claim: asked, allowed, why, and the worker's year used and left (C10)",
)
async def get_recuperation(claim_id: ClaimId, principal: Reader, session: SessionDep) -> RecuperationOut:
    claim = await session.get(RecuperationClaim, claim_id)
    if claim is None:
        raise NotFound(NO_SUCH_CLAIM)
    worker = await session.get(WorkerProjection, claim.worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_CLAIM)
    year = claim.start_date.year
    used = (await used_per_worker_year(session, {(worker.worker_id, year)}))[(worker.worker_id, year)]
    return claim_out(claim, worker, used, await policy_for(session, worker.community_code, year))


@router.get(
    "/recuperation-claims",
    summary="疗休养台账 a year's claims of one worker or of a county, each with the worker's year used and left (C10)",
    response_model=Page[RecuperationOut],
    responses=problem_responses(400, 401, 403, 404) | EXPORT_RESPONSES,
)
async def list_recuperation(
    request: Request,
    export: ExportDep,
    principal: Reader,
    session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="年度 allowance year")],
    worker_id: Annotated[uuid.UUID | None, Query(description="社工编号 one worker's claims")] = None,
    county_code: Annotated[CountyCode | None, Query(description="县级区划代码 a county's claims")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="游标 from next_cursor")] = None,
) -> Page[RecuperationOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[RecuperationOut]:
        if (worker_id is None) == (county_code is None):
            raise UnprocessableContent(
                Message("请给出 worker_id 或 county_code 之一", "Give exactly one of worker_id and county_code"),
                errors=[
                    LocalizedFieldError(
                        "/query/worker_id",
                        "worker_id",
                        Message(
                            "worker_id 与 county_code 须且仅须给出一个", "Exactly one of worker_id and county_code"
                        ),
                        type="value_error",
                    )
                ],
            )
        start, end = in_year(year)
        query = (
            select(RecuperationClaim)
            .join(WorkerProjection, WorkerProjection.worker_id == RecuperationClaim.worker_id)
            .where(RecuperationClaim.start_date >= start, RecuperationClaim.start_date < end)
        )
        if worker_id is not None:
            await _visible_worker(session, principal, worker_id)
            query = query.where(RecuperationClaim.worker_id == worker_id)
        else:
            assert county_code is not None
            require_sees(principal, county_code)
            query = query.where(WorkerProjection.community_path.startswith(county_code))
        filters = {"year": year, "worker_id": worker_id, "county_code": county_code}
        if cursor:
            after_date, after_id = decode_cursor(cursor, filters, (date, uuid.UUID))
            query = query.where(
                or_(
                    RecuperationClaim.start_date > date.fromisoformat(after_date),
                    and_(
                        RecuperationClaim.start_date == date.fromisoformat(after_date),
                        RecuperationClaim.id > uuid.UUID(after_id),
                    ),
                )
            )
        claims, more = await fetch_page(
            session, query.order_by(RecuperationClaim.start_date, RecuperationClaim.id), limit
        )
        workers = {
            w.worker_id: w
            for w in (
                await session.scalars(
                    select(WorkerProjection).where(WorkerProjection.worker_id.in_({c.worker_id for c in claims}))
                )
            ).all()
        }
        used = await used_per_worker_year(session, {(c.worker_id, year) for c in claims})
        policies: dict[str, PayPolicy] = {}
        for community in {w.community_code for w in workers.values()}:
            policies[community] = await policy_for(session, community, year)
        items = [
            claim_out(c, workers[c.worker_id], used[(c.worker_id, year)], policies[workers[c.worker_id].community_code])
            for c in claims
        ]
        last = claims[-1] if claims else None
        next_cursor = encode_cursor([last.start_date.isoformat(), str(last.id)], filters) if more and last else None
        return Page[RecuperationOut](items=items, next_cursor=next_cursor)

    if export is not None:
        return await exported_pages(request, export, page, RecuperationOut, "recuperation-claims")
    return await page(session, cursor, limit)
