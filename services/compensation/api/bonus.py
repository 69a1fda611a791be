"""The annual bonus (C5): a township's pool shared by assessment grade coefficients × months in post,
allocated once per township and year; a change is a replacement that reverses the earlier allocation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from services.compensation import bonus, bonus_payouts
from services.compensation.bonus import allocate, allocation_out, replace
from services.compensation.schemas import BonusIn, BonusOut, BonusPayoutOut, BonusReplaceIn
from shared.db import SessionDep
from shared.dependencies import Reader, Writer, region_in_scope
from shared.inputs import year_query
from shared.list_answers import list_route
from shared.problems import problem_responses
from shared.regions import TownshipCode
from shared.scoping import NO_SUCH_REGION, WRITE_ROLES, require_write

router = APIRouter(prefix="/v1", tags=["bonus"], responses=problem_responses(401, 403, 404))
AllocationId = Annotated[uuid.UUID, Path(description="奖金分配编号 allocation id")]


@router.post(
    "/bonus-allocations",
    summary="绩效奖金分配 share a township's pool by grade coefficient × months in post, to the cent (C5)",
    description=(
        "每个乡镇每年只分配一次 (C5): a second allocation of the same township and year is refused with 409, "
        "naming the live one in `allocation_id`; send `Idempotency-Key` to retry a post safely (the same key "
        "and body answer the first result again). To change an allocation, replace it. Shared only once the "
        "township's assessment of the year is closed and all its grades have reached payroll (the evaluation "
        "feed's `cycle.closed`): until then 409 naming C5, without `allocation_id`."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def allocate_bonus(body: BonusIn, principal: Writer, session: SessionDep) -> BonusOut:
    require_write(principal, body.township_code, NO_SUCH_REGION, WRITE_ROLES)
    row = await allocate(session, body.township_code, body.year, body.pool, principal.subject)
    return allocation_out(row)


@router.post(
    "/bonus-allocations/{allocation_id}/replace",
    summary="更正奖金分配 replace the live allocation: it is reversed and kept, a new one is made (C5)",
    description=(
        "冲销并重新分配 (C5): the allocation is reversed (`reversed_at`, `replaced_by`) and kept in the ledger; "
        "the new allocation shares `pool` on today's assessment grades and names what it `replaces` and why. "
        "Only the live allocation can be replaced (409 otherwise, naming the one that replaced it)."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def replace_bonus(
    allocation_id: AllocationId, body: BonusReplaceIn, principal: Writer, session: SessionDep
) -> BonusOut:
    earlier = await bonus.visible_allocation(session, principal, allocation_id)
    require_write(principal, earlier.township_code, bonus.NO_SUCH_ALLOCATION, WRITE_ROLES)
    row = await replace(session, earlier, body.pool, body.reason, principal.subject)
    return allocation_out(row)


@router.get("/bonus-allocations/{allocation_id}", summary="查看奖金分配 one allocation, live or reversed (C5)")
async def get_bonus(allocation_id: AllocationId, principal: Reader, session: SessionDep) -> BonusOut:
    return allocation_out(await bonus.visible_allocation(session, principal, allocation_id))


@list_route(
    router,
    "/bonus-allocations",
    BonusOut,
    "bonus-allocations",
    summary="奖金分配台账 a township's year: every allocation, reversed ones by reversal, the live one last (C5)",
)
async def bonus_ledger(
    session: SessionDep,
    township_code: Annotated[str, region_in_scope("township_code", TownshipCode, "乡镇（街道） township")],
    year: Annotated[int, year_query("年度 year assessed")],
) -> list[BonusOut]:
    return [allocation_out(r) for r in await bonus.ledger(session, township_code, year)]


@list_route(
    router,
    "/bonus-allocations/{allocation_id}/payouts",
    BonusPayoutOut,
    "bonus-payouts",
    summary="奖金发放明细 what payroll runs pay of the allocation's township and year, per worker and run (C5)",
    description=(
        "每人每年只发一次 (C5): a run pays each worker the live allocation's share less what other live runs "
        "already pay of it, so a replacement pays (or takes back) only the difference. Lists the payouts in "
        "live runs (calculating, calculated, approved, paid) of the allocation's township and year, earlier "
        "allocations' included; those of a cancelled or reversed run are gone and the next run pays them."
    ),
)
async def bonus_payouts_of(allocation_id: AllocationId, principal: Reader, session: SessionDep) -> list[BonusPayoutOut]:
    allocation = await bonus.visible_allocation(session, principal, allocation_id)
    return await bonus_payouts.of_allocation(session, allocation)
