"""Recuperation claims (疗休养, C10): recording a claim within the caps, and the year's amount used and
left per worker. The caps themselves are :mod:`services.compensation.domain.recuperation`."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy
from services.compensation.domain.recuperation import Assessment, assess_claim, year_left
from services.compensation.models import RecuperationClaim, WorkerProjection, events
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, LocalizedFieldError, UnprocessableContent


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
        problem.extra = {"year": year, "year_used": str(used.quantize(Decimal("0.01"))), "year_left": "0.00"}
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
    session.add(claim)
    await session.flush()
    await session.refresh(claim)
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
