"""The mobile app's down-sync (E7): a worker's must-visit households and this month's targets, with the
changes since a cursor.

Changes come from the evaluation outbox (``shared.events``), narrowed to ``must_visit.*`` events of the
worker's community: the cursor is the feed's (commit order), so a registration whose transaction
commits late is still served after the cursor, never skipped, and a cursor once passed serves nothing
again. Without a cursor the answer is every household, read in **one statement** together with the end of
the feed, so what commits after that snapshot is exactly what the next sync serves.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import MustVisitHousehold, Scheme, Visit, WorkerProjection, events
from services.evaluation.schemas import SyncOut, SyncTargets
from services.evaluation.visits import DEFAULT_MUST_VISIT_DAYS, NO_SUCH_WORKER, must_visit_out
from shared.auth import Principal
from shared.events import commits_of, encode_cursor, event_page, feed_rows
from shared.problems import NotFound
from shared.scoping import is_own_worker, own_worker_id

SYNC_EVENTS = ("must_visit.registered", "must_visit.removed")
HOUR = Decimal(3600)
DEFAULT_SHARE, DEFAULT_HOURS = Decimal("0.5"), Decimal(174)  # E7, when the county has no scheme


async def _own_worker(session: AsyncSession, principal: Principal) -> WorkerProjection:
    own = own_worker_id(principal)
    worker = await session.get(WorkerProjection, own) if own else None
    if worker is None or not is_own_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_WORKER)
    return worker


async def _snapshot(session: AsyncSession, community: str) -> tuple[str, list[MustVisitHousehold]]:
    """Every household of the community and the feed's end, in one statement (one snapshot)."""
    commits = commits_of(events)
    end = (
        select(commits.c.position.label("position"), events.c.id.label("event_id"))
        .join(commits, commits.c.txid == events.c.txid)
        .order_by(commits.c.position.desc(), events.c.id.desc())
        .limit(1)
        .subquery()
    )
    anchor = select(literal(1).label("one")).subquery()
    rows = (
        await session.execute(
            select(end.c.position, end.c.event_id, MustVisitHousehold)
            .select_from(anchor)
            .outerjoin(end, true())
            .outerjoin(MustVisitHousehold, MustVisitHousehold.community_code == community)
            .order_by(MustVisitHousehold.building, MustVisitHousehold.unit, MustVisitHousehold.household)
        )
    ).all()
    position, event_id = (rows[0][0] or 0, rows[0][1] or 0) if rows else (0, 0)
    return encode_cursor(position, event_id), [row[2] for row in rows if row[2] is not None]


async def _targets(session: AsyncSession, worker: WorkerProjection, today: date) -> tuple[SyncTargets, int]:
    scheme = await session.get(Scheme, (worker.community_code[:6], today.year))
    share = scheme.visit_share_required if scheme else DEFAULT_SHARE
    hours = scheme.monthly_working_hours if scheme else DEFAULT_HOURS
    days = scheme.must_visit_days if scheme else DEFAULT_MUST_VISIT_DAYS
    first = datetime.combine(today.replace(day=1), time(), tzinfo=UTC)
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    seconds = await session.scalar(
        select(func.coalesce(func.sum(func.extract("epoch", Visit.ended_at - Visit.started_at)), 0)).where(
            Visit.worker_id == worker.worker_id,
            Visit.started_at >= first,
            Visit.started_at < datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC),
        )
    )
    visited = (Decimal(str(seconds or 0)) / HOUR).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    targets = SyncTargets(
        month=f"{today.year:04d}-{today.month:02d}",
        visit_share_required=share,
        monthly_working_hours=hours,
        visit_hours_required=(share * hours).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        visit_hours=visited,
        must_visit_days=days,
    )
    return targets, days


async def sync(session: AsyncSession, principal: Principal, cursor: str | None, limit: int, today: date) -> SyncOut:
    """What the worker's app needs offline, since ``cursor`` (everything without one)."""
    worker = await _own_worker(session, principal)
    community = worker.community_code
    targets, days = await _targets(session, worker, today)
    if cursor is None:
        end, rows = await _snapshot(session, community)
        households = [must_visit_out(row, days) for row in rows]
        return SyncOut(cursor=end, full=True, has_more=False, households=households, deleted=[], targets=targets)
    page = event_page(await feed_rows(session, events, cursor, limit, [community], types=SYNC_EVENTS), cursor)
    # The last change of each household in the page wins; one removed since is served as deleted.
    latest: dict[uuid.UUID, str] = {}
    for event in page.items:
        latest[uuid.UUID(event.data["id"])] = event.type
    current = {
        row.id: row
        for row in (
            await session.scalars(select(MustVisitHousehold).where(MustVisitHousehold.id.in_(list(latest))))
        ).all()
    }
    changed = [
        must_visit_out(current[i], days) for i, kind in latest.items() if kind != SYNC_EVENTS[1] and i in current
    ]
    deleted = [i for i, kind in latest.items() if kind == SYNC_EVENTS[1] or i not in current]
    next_cursor = page.next_cursor or cursor
    return SyncOut(
        cursor=next_cursor,
        full=False,
        has_more=len(page.items) >= limit,
        households=changed,
        deleted=deleted,
        targets=targets,
    )
