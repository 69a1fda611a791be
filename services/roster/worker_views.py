"""A worker as the API shows them (masked, status and current post as of a day), one page at a time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.lifecycle import Lifecycles
from services.roster.models import PostAssignment, Worker
from services.roster.schemas import EmploymentOut, PostOut, WorkerOut, WorkerStatus
from services.roster.worker_access import held_on
from shared.business_time import business_today
from shared.masking import mask_id_number, mask_phone
from shared.read_models import from_row


def post_out(p: PostAssignment) -> PostOut:
    return PostOut.model_validate(p, from_attributes=True)


async def worker_out(session: AsyncSession, w: Worker, as_of: date | None = None) -> WorkerOut:
    return (await workers_out(session, [w], as_of))[0]


async def workers_out(session: AsyncSession, workers: list[Worker], as_of: date | None = None) -> list[WorkerOut]:
    """A page of workers as of a date: their posts, employments and secondments in one query each."""
    day = as_of or business_today()
    ids = [w.id for w in workers]
    posts = {
        p.worker_id: p
        for p in (
            await session.scalars(select(PostAssignment).where(PostAssignment.worker_id.in_(ids), held_on(day)))
        ).all()
    }
    lifecycles = await Lifecycles.load(session, ids)
    return [worker_view(w, posts.get(w.id), lifecycles, day) for w in workers]


def worker_view(w: Worker, post: PostAssignment | None, lifecycles: Lifecycles, day: date) -> WorkerOut:
    employments = lifecycles.employments(w.id)
    return from_row(
        WorkerOut,
        w,
        id_number=mask_id_number(w.id_number) or "",
        phone=mask_phone(w.phone),
        status=WorkerStatus(lifecycles.status_on(w.id, day)),
        status_as_of=day,
        probation_end=employments[-1].probation_end if employments else None,
        employments=[from_row(EmploymentOut, e) for e in employments],
        current_post=post_out(post) if post else None,
    )
