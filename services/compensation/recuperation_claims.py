"""The recuperation ledger (疗休养, C10): claims as the API shows them (asked, allowed, why, and the
worker's year used and left), a year's claims of one worker or of a county in keyset pages, or for pull
sync (``updated_since``: the claims recorded since then, in commit order, ``shared.sync``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy
from services.compensation.domain.recuperation import year_left
from services.compensation.models import RecuperationClaim, WorkerProjection, events
from services.compensation.policies import policy_for
from services.compensation.recuperation import in_year, used_per_worker_year
from services.compensation.schemas import RecuperationOut, ReductionOut
from shared.auth import Principal
from shared.events import commits_of
from shared.i18n import Message
from shared.pagination import Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import LocalizedFieldError, UnprocessableContent
from shared.scoping import require_sees, visible_projected_worker
from shared.sync import synced_rows


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


async def claims_page(
    session: AsyncSession,
    principal: Principal,
    year: int,
    worker_id: uuid.UUID | None,
    county_code: str | None,
    cursor: str | None,
    limit: int,
    updated_since: datetime | None,
) -> Page[RecuperationOut]:
    """A year's claims of one worker or of a county (exactly one of them), by start date; or, with
    ``updated_since``, those recorded since then in commit order."""
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
    start, end = in_year(year)
    query = (
        select(RecuperationClaim)
        .join(WorkerProjection, WorkerProjection.worker_id == RecuperationClaim.worker_id)
        .where(RecuperationClaim.start_date >= start, RecuperationClaim.start_date < end)
    )
    if worker_id is not None:
        await visible_projected_worker(session, WorkerProjection, principal, worker_id)
        query = query.where(RecuperationClaim.worker_id == worker_id)
    else:
        assert county_code is not None
        require_sees(principal, county_code)
        query = query.where(WorkerProjection.community_path.startswith(county_code))
    filters = {"year": year, "worker_id": worker_id, "county_code": county_code}
    if updated_since is not None:
        synced, next_cursor = await synced_rows(
            session,
            query,
            commits=commits_of(events),
            change_txid=RecuperationClaim.change_txid,
            row_id=RecuperationClaim.id,
            since=updated_since,
            cursor=cursor,
            limit=limit,
            filters=filters | {"updated_since": updated_since.isoformat()},
        )
        claims, more = list(synced), False
    else:
        next_cursor = None
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
    if more and last:
        next_cursor = encode_cursor([last.start_date.isoformat(), str(last.id)], filters)
    return Page[RecuperationOut](items=items, next_cursor=next_cursor)
