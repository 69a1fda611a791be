"""The roster's workers and posts, kept from the roster's feed (applied idempotently)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkerProjection, feed_cursors
from shared.feed_consumer import FeedConsumer
from shared.regions import normalise


async def apply_worker(session: AsyncSession, event: dict[str, Any]) -> None:
    """worker.hired / updated / left / transferred: the record as of its version; older versions lose."""
    d = event["data"]
    values = {
        "worker_id": d["worker_id"],
        "name": d["name"],
        "community_code": d["community_code"],
        "community_path": normalise(d["community_code"]),
        "status": d["status"],
        "hire_date": date.fromisoformat(d["hire_date"]),
        "left_date": date.fromisoformat(d["left_date"]) if d.get("left_date") else None,
        "source_version": int(d["version"]),
    }
    statement = insert(WorkerProjection).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[WorkerProjection.worker_id],
            set_={k: statement.excluded[k] for k in values if k != "worker_id"},
            where=WorkerProjection.source_version <= statement.excluded.source_version,
        )
    )


async def apply_post(session: AsyncSession, event: dict[str, Any]) -> None:
    d = event["data"]
    await session.execute(
        update(WorkerProjection).where(WorkerProjection.worker_id == d["worker_id"]).values(post=d["post"])
    )


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
            base_url=app.state.settings.roster_url,
            handlers=handlers,
            cursors=feed_cursors,
            state=app.state,
        )
    ]
