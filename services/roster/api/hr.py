"""Contracts (H3, H4, renewal bars H7/H8, H9 re-contracting), secondments (H6), transfers (H5, K3),
recruitment rounds and the reserve pool (H1, H2)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from services.roster.domain.careers import (
    contract_end,
    may_transfer,
    renewal_bars,
    reserve_capacity,
    secondment_problem,
)
from services.roster.domain.id_numbers import InvalidIdNumber, id_number_key, parse_id_number
from services.roster.domain.lifecycle import transfer_allowed_from
from services.roster.errors import invalid
from services.roster.lifecycle import publish_status_change, worker_event
from services.roster.models import (
    AssessmentResult,
    Contract,
    Employment,
    RecruitmentRound,
    ReserveEntry,
    Secondment,
    Transfer,
    Worker,
    events,
)
from services.roster.quota_use import check_quota
from services.roster.regions import NO_SUCH_REGION, staffing_policy, visible_region
from services.roster.schemas import (
    ContractIn,
    ContractOut,
    RecontractIn,
    ReserveEntryOut,
    ReserveIn,
    RoundIn,
    RoundOut,
    SecondmentIn,
    SecondmentOut,
    TransferIn,
    TransferOut,
)
from services.roster.worker_access import current_post, visible_worker, writable_worker
from shared.auth import Principal, require
from shared.db import SessionDep
from shared.dependencies import Admin, Writer
from shared.dependencies import ReaderOrWorker as Reader
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, FieldError, NotFound, UnprocessableContent, problem_responses
from shared.regions import CountyCode, RegionLevel, normalise
from shared.scoping import ADMIN_WRITE_ROLES, READ_ROLES, require_write, sees_region

router = APIRouter(prefix="/v1", tags=["hr"])


def contract_out(c: Contract) -> ContractOut:
    return ContractOut(
        id=c.id,
        worker_id=c.worker_id,
        township_code=c.township_code,
        start_date=c.start_date,
        end_date=c.end_date,
        probation_end=c.probation_end,
        renewal_of=c.renewal_of,
        h9_recontract=c.h9_recontract,
        prior_arrangement=c.prior_arrangement,
    )


def rule_error(rule: str, zh: str, en: str, field: str) -> UnprocessableContent:
    """A policy rule refuses the request; ``field`` is the body field the rule judged."""
    return UnprocessableContent(
        Message("{zh}（{rule_id}）", "{en} ({rule_id})"),
        rule=rule,
        errors=[FieldError.of(field, Message(zh, en), rule=rule)],
        rule_id=rule,
        zh=zh,
        en=en,
    )


@router.post(
    "/workers/{worker_id}/contracts",
    summary="签订/续签合同 sign the first contract or renew: one year (H3), probation in the first (H4), "
    "no renewal without a certificate 3 years after hire (H7) or after two 不合格 years (H8)",
    status_code=201,
    response_model=ContractOut,
    responses=problem_responses(401, 403, 404),
)
async def sign_contract(worker_id: uuid.UUID, body: ContractIn, principal: Writer, session: SessionDep) -> ContractOut:
    worker = await writable_worker(session, principal, worker_id)
    _check_employed(worker, body.start_date)
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    previous = await _latest_contract(session, worker)
    if previous is None:
        if body.start_date < worker.hire_date:
            raise invalid("start_date", "早于入职日期", "before the hire date", "H3")
        # H4: the first contract of an employment carries its probation (inclusive end)
        first_probation = await session.scalar(
            select(Employment.probation_end).where(
                Employment.worker_id == worker.id, Employment.hire_date == worker.hire_date
            )
        )
    else:
        if body.start_date != previous.end_date:
            raise invalid(
                "start_date", f"续签应自 {previous.end_date} 起", f"a renewal starts on {previous.end_date}", "H3"
            )
        graded = select(AssessmentResult.year, AssessmentResult.grade).where(AssessmentResult.worker_id == worker.id)
        grades: dict[int, str] = dict((await session.execute(graded)).all())
        bars = renewal_bars(
            hire_date=worker.hire_date,
            certificate_date=worker.certificate_date if worker.certificate_level else None,
            renewal_date=body.start_date,
            grades=grades,
            policy=policy,
        )
        if bars:
            raise rule_error(bars[0].rule, "不予续签：" + bars[0].zh, "Not renewable: " + bars[0].en, "start_date")
        first_probation = None
    contract = Contract(
        worker_id=worker.id,
        township_code=worker.community_code[:9] + "000",
        start_date=body.start_date,
        end_date=contract_end(body.start_date, policy),
        probation_end=first_probation,
        renewal_of=previous.id if previous else None,
    )
    session.add(contract)
    await session.flush()
    await session.refresh(contract)
    await record_event(
        session,
        events,
        "contract.signed",
        f"worker/{worker.id}",
        {
            "worker_id": str(worker.id),
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "renewal": previous is not None,
        },
        region_code=worker.community_code,
    )
    return contract_out(contract)


def _check_employed(worker: Worker, start: date) -> None:
    if worker.left_date is not None and start > worker.left_date:
        raise invalid("start_date", f"已于 {worker.left_date} 离职", f"the worker left on {worker.left_date}")


async def _latest_contract(session: SessionDep, worker: Worker) -> Contract | None:
    """The latest contract of the worker's current employment (a re-hire starts without one)."""
    contract: Contract | None = await session.scalar(
        select(Contract)
        .where(Contract.worker_id == worker.id, Contract.start_date >= worker.hire_date)
        .order_by(Contract.start_date.desc())
        .limit(1)
    )
    return contract


@router.post(
    "/workers/{worker_id}/recontracts",
    summary="H9 重新签订 re-contract a worker recruited before these rules with their township (H3)",
    description=(
        "A worker recruited before these rules and holding no township contract in the current employment signs "
        "one with the township (one year, H3; no probation: H4 is for new workers) and enters the same management "
        "(H9). The contract is flagged `h9_recontract` and the `contract.recontracted` event records who did it."
    ),
    status_code=201,
    response_model=ContractOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def recontract_worker(
    worker_id: uuid.UUID, body: RecontractIn, principal: Writer, session: SessionDep
) -> ContractOut:
    worker = await writable_worker(session, principal, worker_id)
    _check_employed(worker, body.start_date)
    if body.start_date < worker.hire_date:
        raise invalid("start_date", "早于入职日期", "before the hire date", "H9")
    existing = await _latest_contract(session, worker)
    if existing is not None:
        raise Conflict(
            Message(
                "已有乡镇（街道）劳动合同（自 {start}），应续签而非重新签订（H9）",
                "Already under a township contract (from {start}): renew it instead (H9)",
            ),
            rule="H9",
            start=existing.start_date,
        )
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    contract = Contract(
        worker_id=worker.id,
        township_code=worker.community_code[:9] + "000",
        start_date=body.start_date,
        end_date=contract_end(body.start_date, policy),  # H3: one year
        h9_recontract=True,
        prior_arrangement=body.prior_arrangement,
    )
    session.add(contract)
    await session.flush()
    await session.refresh(contract)
    await record_event(
        session,
        events,
        "contract.recontracted",
        f"worker/{worker.id}",
        {
            "worker_id": str(worker.id),
            "contract_id": str(contract.id),
            "township_code": contract.township_code,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "prior_arrangement": body.prior_arrangement,
            "rule": "H9",
            "actor": principal.subject,
        },
    )
    return contract_out(contract)


@router.get(
    "/workers/{worker_id}/contracts",
    summary="合同记录 contracts",
    response_model=list[ContractOut],
    responses=problem_responses(401, 403, 404),
)
async def list_contracts(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> list[ContractOut]:
    worker = await visible_worker(session, principal, worker_id)
    rows = (
        await session.scalars(select(Contract).where(Contract.worker_id == worker.id).order_by(Contract.start_date))
    ).all()
    return [contract_out(c) for c in rows]


@router.post(
    "/workers/{worker_id}/secondments",
    summary="借用/跟岗锻炼 lend to a department (county approval, ≤ 6 months) or post for practice (≤ 1 year) (H6)",
    status_code=201,
    response_model=SecondmentOut,
    responses=problem_responses(401, 403, 404),
)
async def second_worker(
    worker_id: uuid.UUID, body: SecondmentIn, principal: Writer, session: SessionDep
) -> SecondmentOut:
    worker = await writable_worker(session, principal, worker_id)
    if body.end_date <= body.start_date:
        raise invalid("end_date", "应晚于开始日期", "must be after the start date")
    _check_employed(worker, body.start_date)
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    problem = secondment_problem(body.kind.value, body.start_date, body.end_date, body.approval, policy)
    if problem is not None:
        field = "approval" if body.kind == "loan" and not body.approval else "end_date"
        raise rule_error(problem.rule, problem.zh, problem.en, field)
    row = Secondment(worker_id=worker.id, **body.model_dump(mode="python") | {"kind": body.kind.value})
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record_event(
        session,
        events,
        "worker.seconded",
        f"worker/{worker.id}",
        {"worker_id": str(worker.id)} | body.model_dump(mode="json"),
        region_code=worker.community_code,
    )
    await publish_status_change(session, worker)  # on_loan from today, if the loan has begun (H6)
    return SecondmentOut(id=row.id, worker_id=worker.id, **body.model_dump())


@router.post(
    "/workers/{worker_id}/transfers",
    summary="转岗 move to another community, after 2 years of service (H5), 3 years after taking a career-staff "
    "post (K3, 409); quota of a new county (S5)",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def transfer_worker(
    worker_id: uuid.UUID, body: TransferIn, principal: Writer, session: SessionDep
) -> TransferOut:
    worker = await writable_worker(session, principal, worker_id)
    destination = await visible_region(session, principal, body.to_community)
    require_write(principal, destination.code, NO_SUCH_REGION)
    if destination.level != RegionLevel.community or destination.code == worker.community_code:
        raise invalid("to_community", "应为另一社区", "must be another community")
    policy = await staffing_policy(session, worker.community_code, body.effective_date.year)
    if not may_transfer(worker.hire_date, body.effective_date, policy):
        raise rule_error(
            "H5",
            f"任职未满{policy.min_service_years}年，不得转岗",
            f"fewer than {policy.min_service_years} years of service",
            "effective_date",
        )
    allowed_from = transfer_allowed_from(worker.career_staff_date, policy.career_staff_stay_years)
    if allowed_from is not None and body.effective_date < allowed_from:
        refused = Conflict(
            Message(
                "取得事业编制后须在社区岗位留任满{years}年，{allowed_from} 起方可转岗（K3）",
                "After taking a career-staff post the worker stays {years} years in the community post: "
                "no transfer before {allowed_from} (K3)",
            ),
            rule="K3",
            years=policy.career_staff_stay_years,
            allowed_from=allowed_from.isoformat(),
        )
        refused.extra["allowed_from"] = allowed_from.isoformat()
        raise refused
    if destination.code[:6] != worker.community_code[:6]:
        await check_quota(session, destination.code[:6], body.effective_date, "effective_date")  # S5, new county
    post = await current_post(session, worker.id)
    if post is not None and post.start_date < body.effective_date:
        post.end_date = body.effective_date  # the post was in the old community
    transfer = Transfer(
        worker_id=worker.id,
        from_community=worker.community_code,
        to_community=destination.code,
        effective_date=body.effective_date,
    )
    session.add(transfer)
    worker.community_code = destination.code
    worker.community_path = normalise(destination.code)
    worker.version += 1
    worker.updated_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(transfer)
    await record_event(
        session,
        events,
        "worker.transferred",
        f"worker/{worker.id}",
        await worker_event(session, worker)
        | {"from_community": transfer.from_community, "effective_date": body.effective_date.isoformat()},
    )
    return TransferOut(
        id=transfer.id,
        worker_id=worker.id,
        from_community=transfer.from_community,
        to_community=transfer.to_community,
        effective_date=transfer.effective_date,
    )


async def _round_out(session: SessionDep, row: RecruitmentRound) -> RoundOut:
    policy = await staffing_policy(session, row.county_code, row.announced_on.year)
    used = await session.scalar(select(func.count()).select_from(ReserveEntry).where(ReserveEntry.round_id == row.id))
    return RoundOut(
        id=row.id,
        county_code=row.county_code,
        channel=row.channel,
        announced_on=row.announced_on,
        hires=row.hires,
        title=row.title,
        reserve_capacity=reserve_capacity(row.hires, policy),
        reserve_used=int(used or 0),
    )


@router.post(
    "/recruitment-rounds",
    summary="招聘（选任）批次 record a county's recruitment round (H1)",
    status_code=201,
    response_model=RoundOut,
    responses=problem_responses(401, 403, 404),
)
async def create_round(body: RoundIn, principal: Admin, session: SessionDep) -> RoundOut:
    county = await visible_region(session, principal, body.county_code)
    if county.level != RegionLevel.county:
        raise invalid("county_code", "应为县级区划", "must be a county", "H1")
    require_write(principal, county.code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    row = RecruitmentRound(**body.model_dump() | {"channel": body.channel.value})
    session.add(row)
    await session.flush()
    await session.refresh(row)
    await record_event(
        session, events, "recruitment_round.announced", f"recruitment-round/{row.id}", body.model_dump(mode="json")
    )
    return await _round_out(session, row)


@router.post(
    "/recruitment-rounds/{round_id}/reserve",
    summary="入储备库 add candidates who sat the exam but were not hired, at most 1:1 of hires (H2)",
    status_code=201,
    response_model=RoundOut,
    responses=problem_responses(401, 403, 404),
)
async def add_reserve(
    round_id: uuid.UUID, body: ReserveIn, principal: Admin, session: SessionDep, request: Request
) -> RoundOut:
    row = await session.get(RecruitmentRound, round_id, with_for_update=True)
    if row is None or not sees_region(principal, row.county_code):
        raise NotFound(Message("招聘批次不存在", "No such recruitment round"))
    require_write(principal, row.county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    current = await _round_out(session, row)
    if current.reserve_used + len(body.candidates) > current.reserve_capacity:
        raise rule_error(
            "H2",
            f"储备人数超过录用人数（上限 {current.reserve_capacity}，已有 {current.reserve_used}）",
            f"the reserve may hold at most {current.reserve_capacity} ({current.reserve_used} already)",
            "candidates",
        )
    secret = request.app.state.settings.id_number_hash_key.get_secret_value().encode()
    numbers = []
    for index, candidate in enumerate(body.candidates):
        try:
            numbers.append(parse_id_number(candidate.id_number).number)
        except InvalidIdNumber as exc:
            raise invalid(
                "id_number", exc.reason_zh, exc.reason_en, pointer=f"/body/candidates/{index}/id_number"
            ) from exc
    ranked = sorted(zip(body.candidates, numbers, strict=True), key=lambda pair: -(pair[0].score or 0))
    for offset, (candidate, number) in enumerate(ranked, start=current.reserve_used + 1):
        session.add(
            ReserveEntry(
                round_id=row.id,
                name=candidate.name,
                id_number_key=id_number_key(number, secret),
                score=candidate.score,
                rank=offset,
            )
        )
    await session.flush()
    return await _round_out(session, row)


@router.get(
    "/reserve-pool",
    summary="储备库 a county's live reserve (H2)",
    description="Entries of the county's latest announced round; older rounds' entries expired at the next one.",
    response_model=list[ReserveEntryOut],
    responses=problem_responses(401, 403, 404),
)
async def reserve_pool(
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    county: Annotated[CountyCode, Query(description="县级区划 the county")],
) -> list[ReserveEntryOut]:
    if not sees_region(principal, county):
        raise NotFound(NO_SUCH_REGION, code=county)
    today = datetime.now(UTC).date()
    rounds = (
        await session.scalars(
            select(RecruitmentRound)
            .where(RecruitmentRound.county_code == county)
            .order_by(RecruitmentRound.announced_on.desc())
        )
    ).all()
    announced = [r for r in rounds if r.announced_on <= today]
    if not announced:
        return []
    live = announced[0]
    upcoming = [r.announced_on for r in rounds if r.announced_on > today]
    expires = min(upcoming) if upcoming else None
    entries = (
        await session.scalars(select(ReserveEntry).where(ReserveEntry.round_id == live.id).order_by(ReserveEntry.rank))
    ).all()
    return [
        ReserveEntryOut(id=e.id, round_id=e.round_id, name=e.name, score=e.score, rank=e.rank, expires_on=expires)
        for e in entries
    ]
