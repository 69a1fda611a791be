"""Recuperation claims (疗休养, C10): recording a claim within the caps, and the year's amount used and
left per worker. The caps themselves are :mod:`services.compensation.domain.recuperation`."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy
from services.compensation.domain.recuperation import Assessment, assess_claim, year_left
from services.compensation.models import RecuperationClaim, WorkerProjection, events
from services.compensation.policies import policy_for
from services.compensation.schemas import RecuperationIn, RecuperationOut, ReductionOut
from shared.auth import Principal
from shared.events import commits_of, record_event
from shared.i18n import Message
from shared.listing import Key, Listing
from shared.money import CENT
from shared.pagination import Page, PageAt
from shared.problems import Conflict, LocalizedFieldError, NotFound, UnprocessableContent
from shared.read_models import from_row
from shared.scoping import NO_SUCH_WORKER, require_sees, require_write, sees_worker, visible_projected_worker
from shared.writes import inserted

NO_SUCH_CLAIM = Message("疗休养记录不存在", "No such recuperation claim")
CLAIMS = Listing(
    RecuperationClaim,
    (Key(RecuperationClaim.start_date, date), Key(RecuperationClaim.id, uuid.UUID)),
    commits_of(events),
)
"""By start date."""


def in_year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


async def used_in_year(session: AsyncSession, worker_ids: list[uuid.UUID], year: int) -> dict[uuid.UUID, Decimal]:
    """Worker → the amount allowed to them for claims starting in ``year`` (C10: counts to the 2,000)."""
    start, end = in_year(year)
    rows = await session.execute(
        select(RecuperationClaim.worker_id, func.sum(RecuperationClaim.amount_allowed))
        .where(
            RecuperationClaim.worker_id.in_(worker_ids),
            RecuperationClaim.start_date >= start,
            RecuperationClaim.start_date < end,
        )
        .group_by(RecuperationClaim.worker_id)
    )
    used = {w: Decimal(0) for w in worker_ids}
    used.update({w: Decimal(amount) for w, amount in rows.all()})
    return used


async def used_per_worker_year(
    session: AsyncSession, keys: set[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], Decimal]:
    """(worker, year) → amount allowed in that year, for the claims of a page."""
    if not keys:
        return {}
    year = func.extract("year", RecuperationClaim.start_date).cast(RecuperationClaim.days.type)
    rows = await session.execute(
        select(RecuperationClaim.worker_id, year, func.sum(RecuperationClaim.amount_allowed))
        .where(tuple_(RecuperationClaim.worker_id, year).in_(list(keys)))
        .group_by(RecuperationClaim.worker_id, year)
    )
    used = dict.fromkeys(keys, Decimal(0))
    used.update({(w, int(y)): Decimal(amount) for w, y, amount in rows.all()})
    return used


async def record_claim(
    session: AsyncSession,
    worker: WorkerProjection,
    policy: PayPolicy,
    *,
    start_date: date,
    days: int,
    amount: Decimal,
    note: str | None,
    by: str,
) -> tuple[RecuperationClaim, Decimal]:
    """Record a claim at the amount the caps allow (C10), or raise what refuses it: 422 for more days
    than allowed, 409 when nothing is left of the year's allowance. Returns the claim and the amount
    left for the year after it. Claims of one worker and year are serialised by a transaction lock, so
    two at once cannot both spend the last of the allowance."""
    year = start_date.year
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"recuperation/{worker.worker_id}/{year}", 0)))
    )
    used = (await used_in_year(session, [worker.worker_id], year))[worker.worker_id]
    outcome = assess_claim(policy, days, amount, used)
    if not isinstance(outcome, Assessment):
        problem_class = UnprocessableContent if outcome.field == "days" else Conflict
        problem = problem_class(
            Message("{zh}", "{en}"),
            rule=outcome.rule,
            errors=[
                LocalizedFieldError(
                    f"/body/{outcome.field}", outcome.field, Message(outcome.zh, outcome.en), rule=outcome.rule
                )
            ],
            zh=outcome.zh,
            en=outcome.en,
        )
        problem.extra = {"year": year, "year_used": str(used.quantize(CENT)), "year_left": "0.00"}
        if outcome.field == "days":
            problem.extra["year_left"] = str(year_left(policy, used))
        raise problem
    claim = RecuperationClaim(
        worker_id=worker.worker_id,
        start_date=start_date,
        days=days,
        amount_requested=outcome.requested,
        amount_allowed=outcome.allowed,
        reductions=[asdict(r) for r in outcome.reductions],
        note=note,
        created_by=by,
    )
    await inserted(session, claim)
    await record_event(
        session,
        events,
        "recuperation.recorded",
        f"worker/{worker.worker_id}",
        {
            "claim_id": str(claim.id),
            "worker_id": str(worker.worker_id),
            "amount_requested": str(outcome.requested),
            "amount": str(outcome.allowed),
        },
        region=worker.community_code,  # county feeds follow their workers' claims
    )
    return claim, year_left(policy, used + outcome.allowed)


def claim_out(claim: RecuperationClaim, worker: WorkerProjection, used: Decimal, policy: PayPolicy) -> RecuperationOut:
    return from_row(
        RecuperationOut,
        claim,
        name=worker.name,
        community_code=worker.community_code,
        reductions=[ReductionOut.model_validate(r) for r in claim.reductions],
        year=claim.start_date.year,
        year_used=used.quantize(CENT),
        year_left=year_left(policy, used),
    )


async def claim(session: AsyncSession, principal: Principal, body: RecuperationIn) -> RecuperationOut:
    """A claim for a worker the caller may write for, recorded at what the caps allow (C10)."""
    worker = await visible_projected_worker(session, WorkerProjection, principal, body.worker_id)
    require_write(principal, worker.community_code, NO_SUCH_WORKER)
    policy = await policy_for(session, worker.community_code, body.start_date.year)
    row, left = await record_claim(
        session,
        worker,
        policy,
        start_date=body.start_date,
        days=body.days,
        amount=body.amount,
        note=body.note,
        by=principal.subject,
    )
    return claim_out(row, worker, policy.recuperation_per_year - left, policy)


async def visible_claim(session: AsyncSession, principal: Principal, claim_id: uuid.UUID) -> RecuperationOut:
    row = await session.get(RecuperationClaim, claim_id)
    worker = await session.get(WorkerProjection, row.worker_id) if row is not None else None
    if row is None or worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_CLAIM)
    year = row.start_date.year
    used = (await used_per_worker_year(session, {(worker.worker_id, year)}))[(worker.worker_id, year)]
    return claim_out(row, worker, used, await policy_for(session, worker.community_code, year))


def _one_of_worker_or_county(worker_id: uuid.UUID | None, county_code: str | None) -> None:
    if (worker_id is None) == (county_code is None):
        raise UnprocessableContent(
            Message("请给出 worker_id 或 county_code 之一", "Give exactly one of worker_id and county_code"),
            errors=[
                LocalizedFieldError(
                    "/query/worker_id",
                    "worker_id",
                    Message("worker_id 与 county_code 须且仅须给出一个", "Exactly one of worker_id and county_code"),
                    type="value_error",
                )
            ],
        )


async def claims_page(
    at: PageAt,
    principal: Principal,
    *,
    year: int,
    worker_id: uuid.UUID | None,
    county_code: str | None,
    updated_since: datetime | None,
) -> Page[RecuperationOut]:
    """A year's claims of one worker or of a county, by start date, each with its worker's year used and left;
    or, with ``updated_since`` (pull sync), those recorded since then in commit order (``shared.sync``)."""
    _one_of_worker_or_county(worker_id, county_code)
    start, end = in_year(year)
    query = (
        select(RecuperationClaim)
        .join(WorkerProjection, WorkerProjection.worker_id == RecuperationClaim.worker_id)
        .where(RecuperationClaim.start_date >= start, RecuperationClaim.start_date < end)
    )
    if worker_id is not None:
        await visible_projected_worker(at.session, WorkerProjection, principal, worker_id)
        query = query.where(RecuperationClaim.worker_id == worker_id)
    else:
        assert county_code is not None
        require_sees(principal, county_code)
        query = query.where(WorkerProjection.community_path.startswith(county_code))
    filters = {"year": year, "worker_id": worker_id, "county_code": county_code}
    claims, next_cursor = await CLAIMS.rows(
        at.session, query, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )
    workers = {
        w.worker_id: w
        for w in (
            await at.session.scalars(
                select(WorkerProjection).where(WorkerProjection.worker_id.in_({c.worker_id for c in claims}))
            )
        ).all()
    }
    used = await used_per_worker_year(at.session, {(c.worker_id, year) for c in claims})
    policies = {
        community: await policy_for(at.session, community, year)
        for community in {w.community_code for w in workers.values()}
    }
    items = [
        claim_out(c, workers[c.worker_id], used[(c.worker_id, year)], policies[workers[c.worker_id].community_code])
        for c in claims
    ]
    return Page[RecuperationOut](items=items, next_cursor=next_cursor)
