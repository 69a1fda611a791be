"""E5 training hours of a region's workers for a year against the county's requirement."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.domain.duties import TRAINING_HOURS, training_short
from services.evaluation.models import Scheme, TrainingRecord, WorkerProjection
from services.evaluation.schemas import TrainingRow
from shared.projections import NOT_ON_ROLL
from shared.regions import scope_prefix


async def training_rows(session: AsyncSession, region: str, year: int) -> list[TrainingRow]:
    """Each worker on the roll in ``region``: hours of centralised training in ``year`` and the E5 finding."""
    hours = (
        select(TrainingRecord.worker_id, func.sum(TrainingRecord.hours).label("hours"))
        .where(func.extract("year", TrainingRecord.start_date) == year)
        .group_by(TrainingRecord.worker_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(WorkerProjection, func.coalesce(hours.c.hours, 0))
            .outerjoin(hours, hours.c.worker_id == WorkerProjection.worker_id)
            .where(
                WorkerProjection.community_path.startswith(scope_prefix(region)),
                WorkerProjection.status.not_in(NOT_ON_ROLL),
            )
            .order_by(WorkerProjection.community_code, WorkerProjection.name)
        )
    ).all()
    required = {
        s.county_code: s.training_hours_required
        for s in (await session.scalars(select(Scheme).where(Scheme.year == year))).all()
    }
    out = []
    for worker, total in rows:
        need = required.get(worker.community_code[:6], TRAINING_HOURS)
        out.append(
            TrainingRow(
                worker_id=worker.worker_id,
                name=worker.name,
                community_code=worker.community_code,
                hours=Decimal(total),
                required=need,
                rule="E5" if training_short(Decimal(total), need) else None,
            )
        )
    return out
