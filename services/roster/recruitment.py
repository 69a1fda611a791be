"""Recruitment rounds (H1) and the reserve pool (H2): use cases, one transaction each; the reserve's
capacity is ``domain.careers.reserve_capacity``."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.careers import reserve_capacity
from services.roster.domain.id_numbers import InvalidIdNumber, id_number_key, parse_id_number
from services.roster.errors import invalid, refused
from services.roster.models import RecruitmentRound, ReserveEntry, events
from services.roster.regions import staffing_policy, visible_region
from services.roster.schemas import ReserveEntryOut, ReserveIn, RoundIn, RoundOut
from shared.auth import Principal
from shared.business_time import business_today
from shared.events import record_event
from shared.i18n import Message
from shared.policy_rules import decides
from shared.read_models import from_row
from shared.regions import RegionLevel
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, RegionScoped, require_write
from shared.writes import inserted

NO_SUCH_ROUND = Message("招聘批次不存在", "No such recruitment round")
visible_round = RegionScoped(RecruitmentRound, lambda r: r.county_code, NO_SUCH_ROUND)


async def round_out(session: AsyncSession, row: RecruitmentRound) -> RoundOut:
    policy = await staffing_policy(session, row.county_code, row.announced_on.year)
    used = await session.scalar(select(func.count()).select_from(ReserveEntry).where(ReserveEntry.round_id == row.id))
    return from_row(RoundOut, row, reserve_capacity=reserve_capacity(row.hires, policy), reserve_used=int(used or 0))


@decides("H1")
async def announce_round(session: AsyncSession, principal: Principal, body: RoundIn) -> RoundOut:
    county = await visible_region(session, principal, body.county_code)
    if county.level != RegionLevel.county:
        raise invalid("county_code", "应为县级区划", "must be a county", "H1")
    require_write(principal, county.code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    row = RecruitmentRound(**body.model_dump() | {"channel": body.channel.value})
    await inserted(session, row)
    await record_event(
        session, events, "recruitment_round.announced", f"recruitment-round/{row.id}", body.model_dump(mode="json")
    )
    return await round_out(session, row)


async def add_to_reserve(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID, body: ReserveIn, id_secret: bytes
) -> RoundOut:
    """H2: candidates who sat the round's exam, ranked by score, at most as many as the round hired."""
    row = await visible_round(session, principal, round_id, lock=True)
    require_write(principal, row.county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    current = await round_out(session, row)
    if current.reserve_used + len(body.candidates) > current.reserve_capacity:
        raise refused(
            "H2",
            f"储备人数超过录用人数（上限 {current.reserve_capacity}，已有 {current.reserve_used}）",
            f"the reserve may hold at most {current.reserve_capacity} ({current.reserve_used} already)",
            "candidates",
        )
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
                id_number_key=id_number_key(number, id_secret),
                score=candidate.score,
                rank=offset,
            )
        )
    await session.flush()
    return await round_out(session, row)


async def county_rounds(session: AsyncSession, county: str) -> list[RoundOut]:
    """H1, H2: the county's rounds, newest announcement first, each with its reserve capacity and use."""
    rows = (
        await session.scalars(
            select(RecruitmentRound)
            .where(RecruitmentRound.county_code == county)
            .order_by(RecruitmentRound.announced_on.desc(), RecruitmentRound.id)
        )
    ).all()
    return [await round_out(session, row) for row in rows]


async def live_reserve(session: AsyncSession, county: str) -> list[ReserveEntryOut]:
    """H2: the entries of the county's latest announced round; they expire when the next round is announced."""
    today = business_today()
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
