"""The workers on a region's roll, each with a per-worker total over a period (training hours for E5,
visit time for E7): the rows the duty reports are made of."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import WorkerProjection
from shared.projections import NOT_ON_ROLL


async def roll_with_totals(
    session: AsyncSession, prefix: str, totals: Subquery
) -> Sequence[tuple[WorkerProjection, Any]]:
    """Each worker on the roll whose community path starts with ``prefix``, by community then name, with
    their ``totals.c.total`` (``totals``: one row per ``worker_id``), 0 for a worker it has no row for."""
    rows = await session.execute(
        select(WorkerProjection, func.coalesce(totals.c.total, 0))
        .outerjoin(totals, totals.c.worker_id == WorkerProjection.worker_id)
        .where(WorkerProjection.community_path.startswith(prefix), WorkerProjection.status.not_in(NOT_ON_ROLL))
        .order_by(WorkerProjection.community_code, WorkerProjection.name)
    )
    return [(worker, total) for worker, total in rows.all()]
