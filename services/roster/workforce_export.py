"""Workforce export in exactly the import format (issue #13): export → import into an empty roster →
export gives the same rows.

Region-scoped like every list. ID numbers and phones are masked unless the caller holds the personal-data
right for the worker's community; then they are written in full and each worker so read is recorded in
``personal_data_reads``, as the unmasked read of one worker is.

Streamed (a province holds 10^5–10^6 workers): the workers are read ``WORKFORCE_BATCH`` at a time by keyset
over the export's order (community path, hire date, ID number, then the worker id to make it total), each
batch in a transaction of its own with its workers' latest employment, post and contract read by set
queries for those workers; the batch's audit record is committed before its rows leave.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.roster.domain import lifecycle
from services.roster.models import Contract, Employment, PostAssignment, Region, Worker
from services.roster.worker_lists import audit_record
from services.roster.workforce_format import COLUMNS, NO, YES, duties_text, label
from shared.auth import Principal
from shared.exports import first_read
from shared.masking import mask_id_number, mask_phone
from shared.problems import NotFound
from shared.regions import scope_prefix
from shared.scoping import NO_SUCH_REGION, path_filter, sees_region
from shared.spreadsheets import Cell

WORKFORCE_BATCH = 2000  # workers per batch: one keyset page, one short transaction
Key = tuple[str, date, str, uuid.UUID]  # the export's order: community path, hire date, ID number, id


def _latest(rows: Any, key: str) -> dict[Any, Any]:
    """The row with the latest ``key`` date per worker."""
    out: dict[Any, Any] = {}
    for row in rows:
        held = out.get(row.worker_id)
        if held is None or getattr(row, key) > getattr(held, key):
            out[row.worker_id] = row
    return out


async def workforce_batches(
    maker: async_sessionmaker[AsyncSession],
    principal: Principal,
    region: str | None,
    today: date,
    size: int | None = None,
) -> AsyncIterator[list[list[Cell]]]:
    """The export's rows batch by batch, the first already read (a region the caller cannot see is a 404
    before any response starts). Each batch is read, and its audit record committed, in a transaction of
    its own before its rows are handed on."""
    if region and not sees_region(principal, region):
        raise NotFound(NO_SUCH_REGION, code=region)

    async def batches() -> AsyncIterator[list[list[Cell]]]:
        after: Key | None = None
        while True:
            async with maker() as session:
                rows, after = await workforce_batch(session, principal, region, today, after, size or WORKFORCE_BATCH)
                await session.commit()  # the audit of the unmasked rows, before they leave
            if rows:
                yield rows
            if after is None:
                return

    return await first_read(batches())


async def workforce_batch(
    session: AsyncSession,
    principal: Principal,
    region: str | None,
    today: date,
    after: Key | None = None,
    size: int = WORKFORCE_BATCH,
) -> tuple[list[list[Cell]], Key | None]:
    """The next ``size`` workers the caller sees (within ``region``) after ``after`` in the export's order,
    one row each in the import format's columns, and the key to read on from (None: this was the last)."""
    order = (Worker.community_path, Worker.hire_date, Worker.id_number, Worker.id)
    query = select(Worker).where(path_filter(principal, Worker.community_path))
    if region:
        query = query.where(Worker.community_path.startswith(scope_prefix(region)))
    if after is not None:
        query = query.where(tuple_(*order) > after)
    workers = list((await session.scalars(query.order_by(*order).limit(size))).all())
    rows = await _rows(session, principal, workers, today)
    last = workers[-1] if len(workers) == size else None
    return rows, None if last is None else (last.community_path, last.hire_date, last.id_number, last.id)


async def _rows(
    session: AsyncSession, principal: Principal, workers: Sequence[Worker], today: date
) -> list[list[Cell]]:
    """The rows of ``workers`` (their latest employment, post and contract read for them alone); the
    workers shown unmasked recorded in one audit record added to ``session``."""
    if not workers:
        return []
    ids = [w.id for w in workers]
    employments = _latest(
        (await session.scalars(select(Employment).where(Employment.worker_id.in_(ids)))).all(), "hire_date"
    )
    posts = _latest(
        (await session.scalars(select(PostAssignment).where(PostAssignment.worker_id.in_(ids)))).all(), "start_date"
    )
    contracts = _latest(
        (await session.scalars(select(Contract).where(Contract.worker_id.in_(ids)))).all(), "start_date"
    )
    names = dict(
        (
            await session.execute(
                select(Region.code, Region.name).where(Region.code.in_({w.community_code for w in workers}))
            )
        ).all()
    )
    rows: list[list[Cell]] = []
    shown: list[Worker] = []
    for w in workers:
        unmasked = principal.may_unmask(w.community_code)
        if unmasked:
            shown.append(w)
        employment = employments.get(w.id)
        status = None
        if employment is not None:
            period = lifecycle.Employment(employment.hire_date, employment.left_date, employment.probation_end)
            status = lifecycle.status_on([period], [], today)
        post = posts.get(w.id)
        contract = contracts.get(w.id)
        if contract is not None and contract.start_date < w.hire_date:
            contract = None  # an earlier employment's
        if post is not None and post.start_date < w.hire_date:
            post = None
        values: dict[str, Cell] = {
            "id_number": w.id_number if unmasked else mask_id_number(w.id_number),
            "name": w.name,
            "sex": label("sex", w.sex),
            "phone": w.phone if unmasked else mask_phone(w.phone),
            "education": label("education", w.education),
            "political_status": label("political_status", w.political_status),
            "community_code": w.community_code,
            "community_name": names.get(w.community_code),
            "hire_date": w.hire_date,
            "left_date": w.left_date,
            "status": label("status", status),
            "lives_in_community": YES if w.lives_in_community else NO,
            "generalist": YES if w.generalist else NO,
            "grid_duties": YES if w.grid_duties else NO,
            "post": label("post", post.post) if post else None,
            "grade": post.grade if post else None,
            "post_start_date": post.start_date if post else None,
            "approval": post.approval if post else None,
            "duties": duties_text(post.duties) if post else None,
            "contract_start": contract.start_date if contract else None,
            "certificate_level": label("certificate_level", w.certificate_level),
            "certificate_date": w.certificate_date,
        }
        rows.append([values[c.key] for c in COLUMNS])
    if shown:
        session.add(audit_record(principal, shown))  # one record naming every worker shown unmasked
    return rows
