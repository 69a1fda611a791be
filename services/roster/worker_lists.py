"""The workers list: one page of what the caller may see, filtered; in keyset order, or in commit order
for pull sync (``updated_since``, :mod:`shared.sync`); masked, or for an export of a personal-data holder
unmasked with every batch audited first."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.lifecycle import status_expression
from services.roster.models import PersonalDataRead, PostAssignment, Worker, events
from services.roster.schemas import CertificateLevel, WorkerOut, WorkerStatus
from services.roster.worker_access import held_on
from services.roster.worker_views import workers_out
from shared.auth import Principal
from shared.business_time import business_today
from shared.events import commits_of
from shared.i18n import Message
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.problems import Forbidden
from shared.regions import common_region, scope_prefix
from shared.request_context import current_request_id
from shared.scoping import own_worker_filter, path_filter
from shared.vocabulary import Post

UNMASKED_FIELDS = ["id_number", "phone"]
WORKERS = Listing(Worker, (Key(Worker.id, uuid.UUID),), commits_of(events))


@dataclass(frozen=True)
class WorkerFilters:
    region: str | None = None
    status: WorkerStatus | None = None
    certificate_level: CertificateLevel | None = None
    post: Post | None = None
    grade: int | None = None
    hired_from: date | None = None
    hired_to: date | None = None
    as_of: date | None = None
    updated_since: datetime | None = None
    name: str | None = None

    @property
    def day(self) -> date:
        return self.as_of or business_today()

    def digest(self) -> dict[str, Any]:
        """What a cursor is tied to. A sync cursor outlives the day: ``as_of`` only when given."""
        return {
            "as_of": self.as_of if self.updated_since else self.day,
            "region": self.region,
            "status": self.status,
            "certificate_level": self.certificate_level,
            "post": self.post,
            "grade": self.grade,
            "from": self.hired_from,
            "to": self.hired_to,
            **({"updated_since": self.updated_since.isoformat()} if self.updated_since else {}),
            **({"name": self.name} if self.name else {}),
        }


def _visible(principal: Principal, f: WorkerFilters) -> Select[Any]:
    visible = or_(
        path_filter(principal, Worker.community_path), own_worker_filter(principal, Worker.id, Worker.community_path)
    )
    query = select(Worker).where(visible)
    if f.region:
        query = query.where(Worker.community_path.startswith(scope_prefix(f.region)))
    if f.name:  # a prefix, wildcards escaped (the workers_name_prefix_idx index serves it)
        query = query.where(Worker.name.startswith(f.name, autoescape=True))
    if f.status:
        query = query.where(status_expression(f.day) == f.status.value)
    if f.certificate_level:
        query = query.where(Worker.certificate_level == f.certificate_level.value)
    if f.hired_from:
        query = query.where(Worker.hire_date >= f.hired_from)
    if f.hired_to:
        query = query.where(Worker.hire_date <= f.hired_to)
    if f.post or f.grade:
        held = select(PostAssignment.worker_id).where(held_on(f.day))
        if f.post:
            held = held.where(PostAssignment.post == f.post.value)
        if f.grade:
            held = held.where(PostAssignment.grade == f.grade)
        query = query.where(Worker.id.in_(held))
    return query


def require_unmask_right(principal: Principal) -> None:
    if not principal.personal_data_regions:
        raise Forbidden(Message("需要个人信息查看授权", "The personal-data right is required"))


async def workers_page(at: PageAt, principal: Principal, f: WorkerFilters, *, unmask: bool = False) -> Page[WorkerOut]:
    """One page of the list. With ``unmask`` (exports of a personal-data holder), the workers the caller's
    right covers are shown unmasked and named in one audit record, written in this transaction."""
    rows, next_cursor = await WORKERS.rows(
        at.session,
        _visible(principal, f),
        filters=f.digest(),
        cursor=at.cursor,
        limit=at.limit,
        updated_since=f.updated_since,
    )
    items = await workers_out(at.session, rows, f.day)
    if unmask:
        items = _unmasked(at.session, principal, rows, items)
    return Page[WorkerOut](items=items, next_cursor=next_cursor)


async def workers_stream(
    session: AsyncSession, principal: Principal, f: WorkerFilters, batch: int
) -> AsyncIterator[list[WorkerOut]]:
    """The whole list (masked) for an export: the list's query read once through a server-side cursor in id
    order, each ``batch`` of workers shown as the JSON pages show them (``workers_out``: current post,
    employments, status). Not for pull sync (``updated_since`` pages in commit order)."""
    assert f.updated_since is None
    result = await session.stream_scalars(_visible(principal, f).order_by(Worker.id).execution_options(yield_per=batch))
    async for rows in result.partitions(batch):
        yield await workers_out(session, list(rows), f.day)


def _unmasked(
    session: AsyncSession, principal: Principal, rows: list[Worker], items: list[WorkerOut]
) -> list[WorkerOut]:
    shown: list[Worker] = []
    out: list[WorkerOut] = []
    for worker, item in zip(rows, items, strict=True):
        if principal.may_unmask(worker.community_code):
            shown.append(worker)
            item = item.model_copy(update={"id_number": worker.id_number, "phone": worker.phone})
        out.append(item)
    if shown:
        session.add(audit_record(principal, shown))
    return out


def audit_record(principal: Principal, workers: list[Worker]) -> PersonalDataRead:
    """One audit record naming every worker whose personal data is shown (a single, bulk or export read)."""
    return PersonalDataRead(
        actor=principal.subject,
        worker_id=workers[0].id if len(workers) == 1 else None,
        worker_ids=[w.id for w in workers],
        region=common_region([w.community_code for w in workers]),
        fields=UNMASKED_FIELDS,
        request_id=current_request_id(),
    )
