"""The roster's workers and posts, kept from the roster's feed (applied idempotently): event by event with
the ``apply_*`` handlers, or a page at a time set-wise with :func:`apply_roster_page` (same effect)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkerProjection, feed_cursors
from services.evaluation.state import evaluation_state
from shared.contracts import PostAssigned, WorkerChanged
from shared.feed_consumer import CATCH_UP_PAGES, FeedConsumer
from shared.projection_pages import (
    WORKER_TYPES,
    apply_worker_events,
    by_type,
    last_per_key,
    read_page,
    recordset,
    table_of,
)
from shared.projections import upsert_newer, worker_values


async def apply_worker(session: AsyncSession, event: dict[str, Any]) -> None:
    """worker.hired / updated / left / transferred: the record as of its version; older versions lose."""
    d = WorkerChanged.from_event(event)
    await upsert_newer(session, WorkerProjection, "worker_id", worker_values(d), "source_version")


async def apply_post(session: AsyncSession, event: dict[str, Any]) -> None:
    d = PostAssigned.from_event(event)
    await session.execute(update(WorkerProjection).where(WorkerProjection.worker_id == d.worker_id).values(post=d.post))


async def apply_roster_page(session: AsyncSession, page: list[dict[str, Any]]) -> None:
    """A page of the roster's feed: the newest copy of each worker (one upsert), then each worker's post from
    the page's last ``post.assigned`` that finds the worker's row (as ``apply_post`` in order would)."""
    fold = await apply_worker_events(session, WorkerProjection, by_type(page, WORKER_TYPES))
    assigned = by_type(page, ["post.assigned"])
    posts = list(
        zip((position for position, _ in assigned), read_page(PostAssigned, (e for _, e in assigned)), strict=True)
    )
    rows = last_per_key(
        ((p.worker_id,), {"worker_id": p.worker_id, "post": p.post})
        for position, p in posts
        if fold.exists_at(p.worker_id, position) or p.worker_id not in fold.first_event
    )
    if rows:
        table = table_of(WorkerProjection)
        source = recordset(table, ["worker_id", "post"], rows)
        await session.execute(update(table).where(table.c.worker_id == source.c.worker_id).values(post=source.c.post))


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
            page_handler=apply_roster_page,
            cursors=feed_cursors,
            pages_per_poll=CATCH_UP_PAGES,
            state=evaluation_state(app),
        )
    ]
