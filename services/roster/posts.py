"""Assigning a post and grade to a worker (P1–P4, C4): the use case, one transaction; the rules are in
``domain.posts``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.posts import Violation, grade_violation, holders_violation, max_concurrent
from services.roster.errors import invalid
from services.roster.models import PostAssignment, Region, Worker, events
from services.roster.regions import staffing_policy
from services.roster.schemas import PostAssign
from shared.contracts import PostAssigned
from shared.events import record_event
from shared.problems import UnprocessableContent
from shared.read_models import from_row
from shared.vocabulary import Post


def _refused(violation: Violation) -> UnprocessableContent:
    return invalid(violation.field, violation.zh, violation.en, violation.rule)


async def assign_post(session: AsyncSession, worker: Worker, body: PostAssign) -> PostAssignment:
    """The worker (locked) takes ``body``'s post from its start date; the post held before ends that day."""
    if worker.left_date is not None and body.start_date > worker.left_date:
        raise invalid("start_date", f"晚于离职日期 {worker.left_date}", f"after the leave date {worker.left_date}")
    violation = grade_violation(body.post.value, body.grade)
    if violation:
        raise _refused(violation)
    if body.start_date < worker.hire_date:
        raise invalid("start_date", "早于入职日期", "before the hire date")
    # Serialise the community's post changes: the P-rules count everyone's posts at once.
    await session.execute(select(Region.code).where(Region.code == worker.community_code).with_for_update())
    history = list((await session.scalars(select(PostAssignment).where(PostAssignment.worker_id == worker.id))).all())
    if any(p.start_date >= body.start_date for p in history):
        raise invalid("start_date", "不早于已有任职记录", "must come after the worker's recorded posts")
    open_post = next((p for p in history if p.end_date is None or p.end_date > body.start_date), None)
    if body.post in (Post.chief, Post.deputy):
        policy = await staffing_policy(session, worker.community_code, body.start_date.year)
        others = (
            await session.execute(
                select(PostAssignment.start_date, PostAssignment.end_date).where(
                    PostAssignment.community_code == worker.community_code,
                    PostAssignment.post == body.post.value,
                    PostAssignment.worker_id != worker.id,
                )
            )
        ).all()
        together = max_concurrent([(s, e) for s, e in others], (body.start_date, None))
        violation = holders_violation(
            body.post.value, together, bool(body.approval), policy.max_chiefs_with_approval, policy.max_deputies
        )
        if violation:
            raise _refused(violation)
    if open_post is not None:
        open_post.end_date = body.start_date  # one post at a time: the earlier one ends as this starts
    assignment = PostAssignment(
        worker_id=worker.id,
        community_code=worker.community_code,
        post=body.post.value,
        grade=body.grade,
        start_date=body.start_date,
        approval=body.approval,
        duties=[d.value for d in dict.fromkeys(body.duties)],  # P4, each area once
    )
    session.add(assignment)
    worker.updated_at = datetime.now(UTC)  # the worker's current post changed: pull-sync followers see it again
    await session.flush()
    await session.refresh(assignment)
    await record_event(
        session,
        events,
        "post.assigned",
        f"worker/{worker.id}",
        from_row(PostAssigned, assignment).to_data(),
    )
    return assignment


async def post_history(session: AsyncSession, worker: Worker) -> list[PostAssignment]:
    """The worker's post assignments, oldest first."""
    rows = await session.scalars(
        select(PostAssignment).where(PostAssignment.worker_id == worker.id).order_by(PostAssignment.start_date)
    )
    return list(rows.all())
