"""What every consumer of a change feed does with a versioned record: keep the newest copy.

``upsert_newer`` inserts the record or replaces the stored copy when the event's version is at least the
stored one (the feed may repeat an event or, after a replay, bring an older one: it changes nothing).
``ProjectedWorker`` is the part of the roster's worker that every consuming service keeps, and
``worker_values`` reads it from a ``worker.*`` event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Date, Index, Integer, String, Table
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from shared.contracts import AssessmentGraded, WorkerChanged
from shared.regions import normalise
from shared.writes import upsert

# Statuses of a projected worker who is not on the roll today: left, or hired from a later date (pending).
NOT_ON_ROLL = ("left", "pending")
PATTERN_OPS = "text_pattern_ops"  # prefix searches (LIKE 'code%') use the index


class ProjectedWorker:
    """A consuming service's copy of the roster's worker (a declarative mixin: each service adds its own
    columns to its ``workers`` table)."""

    __tablename__ = "workers"

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Index]:
        return (
            Index(
                "workers_community_path_idx", "community_path", postgresql_ops={"community_path": "text_pattern_ops"}
            ),
        )

    worker_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    community_code: Mapped[str] = mapped_column(String(12))
    community_path: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    hire_date: Mapped[date] = mapped_column(Date)
    left_date: Mapped[date | None] = mapped_column(Date)
    source_version: Mapped[int] = mapped_column(Integer)


def worker_values(d: WorkerChanged) -> dict[str, Any]:
    """The ``ProjectedWorker`` columns of a worker event, with the roster record's version."""
    return {
        "worker_id": d.worker_id,
        "name": d.name,
        "community_code": d.community_code,
        "community_path": normalise(d.community_code),
        "status": d.status,
        "hire_date": d.hire_date,
        "left_date": d.left_date,
        "source_version": d.version,
    }


async def upsert_newer(
    session: AsyncSession, model: type[DeclarativeBase], key: str, values: dict[str, Any], version: str
) -> bool:
    """Store ``values`` unless a newer version is stored; whether they were stored."""
    table = model.__table__
    assert isinstance(table, Table)
    statement = insert(table).values(**values)
    stored = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={k: statement.excluded[k] for k in values if k != key},
            where=table.c[version] <= statement.excluded[version],
        ).returning(table.c[key])
    )
    return stored is not None


async def upsert_grade(
    session: AsyncSession, model: type[DeclarativeBase], event: dict[str, Any], touch: Mapping[str, Any] | None = None
) -> None:
    """``assessment.finalized`` / ``assessment.appealed``: the worker's grade for the year (an idempotent upsert,
    ``touch`` set as well when a stored grade is replaced)."""
    d = AssessmentGraded.from_event(event)
    await upsert(
        session, model, {"worker_id": d.worker_id, "year": d.year, "grade": d.grade}, ["worker_id", "year"], touch
    )
