"""Contracts (H3, H4, renewal bars H7/H8, H9 re-contracting), secondments (H6), transfers (H5, K3),
recruitment rounds and the reserve pool (H1, H2): the routes parse, authorise, call one use case and shape
the answer; the use cases are ``labour_contracts``, ``secondments``, ``transfers`` and ``recruitment``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from services.roster import labour_contracts, recruitment, secondments, transfers
from services.roster.models import Contract
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
from services.roster.state import id_number_secret
from services.roster.worker_access import visible_worker, writable_worker
from shared.db import SessionDep
from shared.dependencies import Admin, CountyInScope, Writer
from shared.dependencies import ReaderOrWorker as Reader
from shared.list_answers import list_route
from shared.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["hr"], responses=problem_responses(401, 403, 404))


def contract_out(c: Contract) -> ContractOut:
    return ContractOut.model_validate(c, from_attributes=True)


@router.post(
    "/workers/{worker_id}/contracts",
    summary="签订/续签合同 sign the first contract or renew: one year (H3), probation in the first (H4), "
    "no renewal without a certificate 3 years after hire (H7) or after two 不合格 years (H8)",
    status_code=201,
)
async def sign_contract(worker_id: uuid.UUID, body: ContractIn, principal: Writer, session: SessionDep) -> ContractOut:
    worker = await writable_worker(session, principal, worker_id)
    return contract_out(await labour_contracts.sign_contract(session, worker, body))


@router.post(
    "/workers/{worker_id}/recontracts",
    summary="H9 重新签订 re-contract a worker recruited before these rules with their township (H3)",
    description=(
        "A worker recruited before these rules and holding no township contract in the current employment signs "
        "one with the township (one year, H3; no probation: H4 is for new workers) and enters the same management "
        "(H9). The contract is flagged `h9_recontract` and the `contract.recontracted` event records who did it."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def recontract_worker(
    worker_id: uuid.UUID, body: RecontractIn, principal: Writer, session: SessionDep
) -> ContractOut:
    worker = await writable_worker(session, principal, worker_id)
    return contract_out(await labour_contracts.recontract(session, principal, worker, body))


@list_route(router, "/workers/{worker_id}/contracts", ContractOut, "contracts", summary="合同记录 contracts")
async def list_contracts(worker_id: uuid.UUID, principal: Reader, session: SessionDep) -> list[ContractOut]:
    worker = await visible_worker(session, principal, worker_id)
    return [contract_out(c) for c in await labour_contracts.contracts_of(session, worker)]


@router.post(
    "/workers/{worker_id}/secondments",
    summary="借用/跟岗锻炼 lend to a department (county approval, ≤ 6 months) or post for practice (≤ 1 year) (H6)",
    status_code=201,
)
async def second_worker(
    worker_id: uuid.UUID, body: SecondmentIn, principal: Writer, session: SessionDep
) -> SecondmentOut:
    worker = await writable_worker(session, principal, worker_id)
    row = await secondments.second(session, worker, body)
    return SecondmentOut(id=row.id, worker_id=worker.id, **body.model_dump())


@router.post(
    "/workers/{worker_id}/transfers",
    summary="转岗 move to another community, after 2 years of service (H5), 3 years after taking a career-staff "
    "post (K3, 409); quota of a new county (S5)",
    status_code=201,
    responses=problem_responses(409),
)
async def transfer_worker(
    worker_id: uuid.UUID, body: TransferIn, principal: Writer, session: SessionDep
) -> TransferOut:
    worker = await writable_worker(session, principal, worker_id)
    moved = await transfers.transfer(session, principal, worker, body)
    return TransferOut(
        id=moved.id,
        worker_id=worker.id,
        from_community=moved.from_community,
        to_community=moved.to_community,
        effective_date=moved.effective_date,
    )


@router.post(
    "/recruitment-rounds", summary="招聘（选任）批次 record a county's recruitment round (H1)", status_code=201
)
async def create_round(body: RoundIn, principal: Admin, session: SessionDep) -> RoundOut:
    return await recruitment.announce_round(session, principal, body)


@list_route(
    router,
    "/recruitment-rounds",
    RoundOut,
    "recruitment-rounds",
    summary="招聘批次 a county's recruitment rounds, newest first, with reserve capacity and use (H1, H2)",
    description="H1 channel, announcement date and hires of every round; H2 the reserve's cap (1:1 of hires) and use.",
)
async def list_rounds(county: CountyInScope, session: SessionDep) -> list[RoundOut]:
    return await recruitment.county_rounds(session, county)


@router.post(
    "/recruitment-rounds/{round_id}/reserve",
    summary="入储备库 add candidates who sat the exam but were not hired, at most 1:1 of hires (H2)",
    status_code=201,
)
async def add_reserve(
    round_id: uuid.UUID, body: ReserveIn, principal: Admin, session: SessionDep, request: Request
) -> RoundOut:
    return await recruitment.add_to_reserve(session, principal, round_id, body, id_number_secret(request))


@list_route(
    router,
    "/reserve-pool",
    ReserveEntryOut,
    "reserve-pool",
    summary="储备库 a county's live reserve (H2)",
    description="Entries of the county's latest announced round; older rounds' entries expired at the next one.",
)
async def reserve_pool(county: CountyInScope, session: SessionDep) -> list[ReserveEntryOut]:
    return await recruitment.live_reserve(session, county)
