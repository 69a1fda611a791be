"""The roster's workers and posts, kept from the roster's feed (applied idempotently)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkerProjection, feed_cursors
from services.evaluation.state import evaluation_state
from shared.contracts import PostAssigned, WorkerChanged
from shared.feed_consumer import FeedConsumer
from shared.projections import upsert_newer, worker_values


async def apply_worker(session: AsyncSession, event: dict[str, Any]) -> None:
    """worker.hired / updated / left / transferred: the record as of its version; older versions lose."""
    d = WorkerChanged.from_event(event)
    await upsert_newer(session, WorkerProjection, "worker_id", worker_values(d), "source_version")


async def apply_post(session: AsyncSession, event: dict[str, Any]) -> None:
    d = PostAssigned.from_event(event)
    await session.execute(update(WorkerProjection).where(WorkerProjection.worker_id == d.worker_id).values(post=d.post))


def evaluation_feeds(app: FastAPI) -> list[FeedConsumer]:
    handlers = {
        "worker.hired": apply_worker,
        "worker.updated": apply_worker,
        "worker.left": apply_worker,
        "worker.transferred": apply_worker,
        "post.assigned": apply_post,
    }
    return [
        FeedConsumer(
            source="roster",
            base_url=evaluation_state(app).settings.roster_url,
            handlers=handlers,
            cursors=feed_cursors,
            state=evaluation_state(app),
        )
    ]
