"""A worker as the API shows them (masked, status and current post as of a day), one page at a time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.lifecycle import Lifecycles, business_today
from services.roster.models import PostAssignment, Worker
from services.roster.schemas import Duty, EmploymentOut, Post, PostOut, WorkerOut, WorkerStatus
from services.roster.worker_access import held_on
from shared.masking import mask_id_number, mask_phone


def post_out(p: PostAssignment) -> PostOut:
    return PostOut(
        id=p.id,
        worker_id=p.worker_id,
        community_code=p.community_code,
        post=Post(p.post),
        grade=p.grade,
        start_date=p.start_date,
        end_date=p.end_date,
        approval=p.approval,
        duties=[Duty(d) for d in p.duties],
    )


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
    return WorkerOut(
        id=w.id,
        id_number=mask_id_number(w.id_number) or "",
        name=w.name,
        sex=w.sex,
        birth_date=w.birth_date,
        phone=mask_phone(w.phone),
        education=w.education,
        political_status=w.political_status,
        community_code=w.community_code,
        lives_in_community=w.lives_in_community,
        generalist=w.generalist,
        grid_duties=w.grid_duties,
        certificate_level=w.certificate_level,
        certificate_date=w.certificate_date,
        status=WorkerStatus(lifecycles.status_on(w.id, day)),
        status_as_of=day,
        hire_date=w.hire_date,
        left_date=w.left_date,
        probation_end=employments[-1].probation_end if employments else None,
        employments=[
            EmploymentOut(hire_date=e.hire_date, left_date=e.left_date, probation_end=e.probation_end)
            for e in employments
        ],
        career_staff_date=w.career_staff_date,
        career_staff_document=w.career_staff_document,
        current_post=post_out(post) if post else None,
        version=w.version,
        updated_at=w.updated_at,
    )
