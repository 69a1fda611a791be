"""Workers' lifecycle in the database: the status derived as of a date, in SQL for filters and in
Python for each record (the same rules, ``domain.lifecycle.status_on``), the worker events with their
employment periods, and the scheduled transition that keeps the change feed in step with the calendar.

The feed (chosen design): ``workers.status`` holds the status last *published*. A background task in
the app's lifespan (:func:`run_transitions`) finds every worker whose status derived for today
(Asia/Shanghai) differs from it — probation ended (H4), a loan or practice posting began or ended
(H6), a leave date or a re-hire date passed — and, per worker, updates it, bumps the version and writes
``worker.updated`` in the same transaction. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and
re-checked by PostgreSQL after the lock, so several replicas (and requests changing the same worker)
never publish one transition twice; a run that finds nothing does nothing (idempotent). Reads never
wait for it: they derive the status themselves, as of ``as_of``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, Protocol

from fastapi import FastAPI
from sqlalchemy import ColumnElement, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.roster.domain import lifecycle
from services.roster.models import Employment, Secondment, Worker, events
from services.roster.state import roster_state
from shared.background import running
from shared.business_time import business_today
from shared.contracts import EmploymentPeriod, WorkerChanged
from shared.events import record_event
from shared.request_context import new_request_id, request_id_var

_log = logging.getLogger("shegong.roster.lifecycle")


def status_expression(day: date) -> ColumnElement[str]:
    """SQL for ``domain.lifecycle.status_on`` of each ``Worker`` row on ``day`` (same order of rules)."""
    hired = select(Employment.id).where(Employment.worker_id == Worker.id, Employment.hire_date <= day)
    employed = hired.where(or_(Employment.left_date.is_(None), Employment.left_date >= day))
    on_probation = employed.where(Employment.probation_end >= day)
    seconded = select(Secondment.id).where(
        Secondment.worker_id == Worker.id, Secondment.start_date <= day, Secondment.end_date > day
    )
    return case(
        (~hired.exists(), lifecycle.PENDING),
        (~employed.exists(), lifecycle.LEFT),
        (seconded.exists(), lifecycle.ON_LOAN),
        (on_probation.exists(), lifecycle.PROBATION),
        else_=lifecycle.ACTIVE,
    )


def employed_on(day: date | ColumnElement[date]) -> ColumnElement[bool]:
    """SQL: the ``Worker`` row is employed on ``day`` (hired by then, not left before it)."""
    return (
        select(Employment.id)
        .where(
            Employment.worker_id == Worker.id,
            Employment.hire_date <= day,
            or_(Employment.left_date.is_(None), Employment.left_date >= day),
        )
        .exists()
    )


class Lifecycles:
    """The employments and secondments of some workers, loaded in two queries."""

    def __init__(
        self,
        employments: dict[uuid.UUID, list[Employment]],
        secondments: dict[uuid.UUID, list[Secondment]],
    ) -> None:
        self._employments = employments
        self._secondments = secondments

    @classmethod
    async def load(cls, session: AsyncSession, worker_ids: Sequence[uuid.UUID]) -> Lifecycles:
        employments: dict[uuid.UUID, list[Employment]] = {}
        secondments: dict[uuid.UUID, list[Secondment]] = {}
        if worker_ids:
            for e in await session.scalars(
                select(Employment).where(Employment.worker_id.in_(worker_ids)).order_by(Employment.hire_date)
            ):
                employments.setdefault(e.worker_id, []).append(e)
            for s in await session.scalars(select(Secondment).where(Secondment.worker_id.in_(worker_ids))):
                secondments.setdefault(s.worker_id, []).append(s)
        return cls(employments, secondments)

    def employments(self, worker_id: uuid.UUID) -> list[Employment]:
        """Oldest first."""
        return self._employments.get(worker_id, [])

    def periods(self, worker_id: uuid.UUID) -> list[lifecycle.Employment]:
        return [lifecycle.Employment(e.hire_date, e.left_date, e.probation_end) for e in self.employments(worker_id)]

    def status_on(self, worker_id: uuid.UUID, day: date) -> str:
        secondments = [lifecycle.Secondment(s.start_date, s.end_date) for s in self._secondments.get(worker_id, [])]
        return lifecycle.status_on(self.periods(worker_id), secondments, day)


class WorkerFacts(Protocol):
    """What a worker event says of the worker: a ``Worker`` row, or a workforce import's row
    (``workforce_import.HiredWorker``, which writes the same event without building the ORM object)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def community_code(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def hire_date(self) -> date: ...
    @property
    def left_date(self) -> date | None: ...
    @property
    def education(self) -> str | None: ...
    @property
    def certificate_level(self) -> str | None: ...
    @property
    def certificate_date(self) -> date | None: ...
    @property
    def generalist(self) -> bool: ...
    @property
    def version(self) -> int: ...


class EmploymentDates(Protocol):
    """An employment's period: an ``Employment`` row, or the domain's ``lifecycle.Employment``."""

    @property
    def hire_date(self) -> date: ...
    @property
    def left_date(self) -> date | None: ...


def worker_changed(w: WorkerFacts, employments: Sequence[EmploymentDates]) -> WorkerChanged:
    """What consumers need (pay- and assessment-relevant attributes); never the ID number or phone."""
    return WorkerChanged(
        worker_id=w.id,
        name=w.name,
        community_code=w.community_code,
        county_code=w.community_code[:6],
        status=w.status,
        hire_date=w.hire_date,
        left_date=w.left_date,
        education=w.education,
        certificate_level=w.certificate_level,
        certificate_date=w.certificate_date,
        generalist=w.generalist,
        version=w.version,
        employments=[
            EmploymentPeriod(hire_date=e.hire_date, left_date=e.left_date)
            for e in sorted(employments, key=lambda e: e.hire_date)
        ],
    )


def worker_event_data(w: WorkerFacts, employments: Sequence[EmploymentDates]) -> dict[str, Any]:
    """The worker event's data (:func:`worker_changed`)."""
    return worker_changed(w, employments).to_data()


async def worker_event(session: AsyncSession, w: Worker) -> dict[str, Any]:
    """The worker's event data, its status brought to today's first (so the event says what is true now)."""
    lifecycles = await Lifecycles.load(session, [w.id])
    w.status = lifecycles.status_on(w.id, business_today())
    return worker_event_data(w, lifecycles.employments(w.id))


async def publish_status_change(session: AsyncSession, w: Worker) -> bool:
    """After a change that may move today's status (a loan recorded, say): if it moved, bump the version
    and write ``worker.updated``. Returns whether it moved. The worker row must be locked."""
    before = w.status
    data = await worker_event(session, w)
    if w.status == before:
        return False
    w.version += 1
    w.updated_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session, events, "worker.updated", f"worker/{w.id}", data | {"version": w.version, "changed": ["status"]}
    )
    return True


async def publish_due_transitions(sessionmaker: async_sessionmaker[AsyncSession], day: date, batch: int = 500) -> int:
    """Publish every status the calendar has changed by ``day``: one ``worker.updated`` per worker whose
    published status differs from the derived one. Safe to run anywhere, any number of times, at once."""
    published = 0
    token = request_id_var.set("lifecycle-" + new_request_id())
    try:
        while True:
            async with sessionmaker() as session, session.begin():
                derived = status_expression(day)
                rows = (
                    await session.execute(
                        select(Worker, derived)
                        .where(Worker.status != derived)
                        .order_by(Worker.id)
                        .limit(batch)
                        .with_for_update(of=Worker, skip_locked=True)
                    )
                ).all()
                lifecycles = await Lifecycles.load(session, [w.id for w, _ in rows])
                now = datetime.now(UTC)
                for worker, status in rows:
                    worker.status = status
                    worker.version += 1
                    worker.updated_at = now
                    data = worker_event_data(worker, lifecycles.employments(worker.id)) | {"changed": ["status"]}
                    await record_event(session, events, "worker.updated", f"worker/{worker.id}", data)
                published += len(rows)
            if len(rows) < batch:
                return published
    finally:
        request_id_var.reset(token)


async def run_transitions(app: FastAPI, interval_seconds: float) -> None:
    """The lifespan's loop: publish due transitions now, then every ``interval_seconds``."""
    while True:
        try:
            count = await publish_due_transitions(roster_state(app).sessionmaker, business_today())
            if count:
                _log.info("published %d status transitions", count)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("status transitions failed; retrying next interval")
        await asyncio.sleep(interval_seconds)


@asynccontextmanager
async def lifecycle_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = roster_state(app).settings
    loops = [run_transitions(app, settings.lifecycle_interval_seconds)] if settings.lifecycle_enabled else []
    async with running(*loops):
        yield
