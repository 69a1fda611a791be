"""Finding a worker the caller may see, and the post a worker holds on a day (used by every roster area)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.models import PostAssignment, Worker
from shared.auth import Principal
from shared.business_time import business_today
from shared.scoping import NO_SUCH_WORKER, require_write, sees_worker, visible_or_404


def held_on(day: date) -> Any:
    return and_(PostAssignment.start_date <= day, or_(PostAssignment.end_date.is_(None), PostAssignment.end_date > day))


async def current_post(session: AsyncSession, worker_id: uuid.UUID, day: date | None = None) -> PostAssignment | None:
    post: PostAssignment | None = await session.scalar(
        select(PostAssignment).where(PostAssignment.worker_id == worker_id, held_on(day or business_today()))
    )
    return post


async def visible_worker(
    session: AsyncSession, principal: Principal, worker_id: uuid.UUID, *, lock: bool = False
) -> Worker:
    query = select(Worker).where(Worker.id == worker_id)
    worker = await session.scalar(query.with_for_update() if lock else query)
    return visible_or_404(worker, lambda w: sees_worker(principal, w.id, w.community_code), NO_SUCH_WORKER)


async def writable_worker(session: AsyncSession, principal: Principal, worker_id: uuid.UUID) -> Worker:
    """The worker, locked, when the caller may change them: 404 when they cannot see them, 403 read-only."""
    worker = await visible_worker(session, principal, worker_id, lock=True)
    require_write(principal, worker.community_code, NO_SUCH_WORKER)
    return worker
