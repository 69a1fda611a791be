"""The audited path to personal data (ID number, phone): one worker, or up to 1,000 at once for an
authorised platform. Every read is one audit record naming every worker shown (``personal_data_reads``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.models import PersonalDataRead, Worker, events
from services.roster.schemas import PersonalData, PersonalDataReadOut
from services.roster.worker_access import visible_worker
from services.roster.worker_lists import audit_record
from shared.auth import Principal, Role
from shared.events import commits_of
from shared.i18n import Message
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.problems import ERRORS_SHOWN, FieldError, Forbidden, NotFound
from shared.scoping import path_filter, sees_worker

MAX_BULK = 1000
NO_RIGHT = Message("需要个人信息查看授权", "The personal-data right is required")
READS = Listing(
    PersonalDataRead,
    (Key(PersonalDataRead.id, int, descending=True),),
    commits_of(events),
    sync_id=Key(PersonalDataRead.id, int),
)
"""Newest first."""


def _shown(worker: Worker) -> PersonalData:
    return PersonalData(worker_id=worker.id, id_number=worker.id_number, phone=worker.phone)


async def read_one(session: AsyncSession, principal: Principal, worker_id: uuid.UUID) -> PersonalData:
    worker = await visible_worker(session, principal, worker_id)
    if not principal.may_unmask(worker.community_code):
        raise Forbidden(NO_RIGHT)
    session.add(audit_record(principal, [worker]))
    return _shown(worker)


async def read_many(session: AsyncSession, principal: Principal, worker_ids: list[uuid.UUID]) -> list[PersonalData]:
    """All or nothing: every id must be a worker the caller sees (404 naming the others, as if they did not
    exist) and whose region the caller's personal-data right covers (403 naming the others)."""
    wanted = list(dict.fromkeys(worker_ids))  # once each, in the order asked
    found = {w.id: w for w in (await session.scalars(select(Worker).where(Worker.id.in_(wanted)))).all()}
    unseen = [
        i
        for i, wid in enumerate(worker_ids)
        if (w := found.get(wid)) is None or not sees_worker(principal, w.id, w.community_code)
    ]
    if unseen:
        raise NotFound(
            Message("{count} 名社工不存在", "{count} of the workers do not exist"),
            errors=[_error(worker_ids, i, "不存在", "no such worker", "not_found") for i in unseen[:ERRORS_SHOWN]],
            count=len(unseen),
        )
    refused = [i for i, wid in enumerate(worker_ids) if not principal.may_unmask(found[wid].community_code)]
    if refused:
        raise Forbidden(
            NO_RIGHT,
            errors=[
                _error(worker_ids, i, "不在个人信息授权范围内", "outside the personal-data right", "personal_data")
                for i in refused[:ERRORS_SHOWN]
            ],
        )
    workers = [found[wid] for wid in wanted]
    session.add(audit_record(principal, workers))
    return [_shown(w) for w in workers]


def _error(worker_ids: list[uuid.UUID], index: int, zh: str, en: str, kind: str) -> FieldError:
    """The error of one id, at its place in the body (at most 50 are listed)."""
    who = worker_ids[index]
    return FieldError.of(
        "worker_ids",
        Message(f"社工 {who}：{zh}", f"worker {who}: {en}"),
        pointer=f"/body/worker_ids/{index}",
        type=kind,
    )


def _read_out(r: PersonalDataRead) -> PersonalDataReadOut:
    return PersonalDataReadOut.model_validate(r, from_attributes=True)


async def reads_page(
    at: PageAt,
    principal: Principal,
    worker_id: uuid.UUID | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    updated_since: datetime | None,
) -> Page[PersonalDataReadOut]:
    """The audit of unmasked reads in the auditor's regions, newest first (a worker's: single and bulk
    reads naming them); or, with ``updated_since``, the records committed since then in commit order."""
    filters = {"worker_id": worker_id, "actor": actor, "since": since, "until": until}
    scope = path_filter(principal, PersonalDataRead.region, frozenset({Role.auditor, Role.province_admin}))
    query = select(PersonalDataRead).where(scope)
    if worker_id:
        query = query.where(PersonalDataRead.worker_ids.contains([worker_id]))  # single and bulk reads
    if actor:
        query = query.where(PersonalDataRead.actor == actor)
    if since:
        query = query.where(PersonalDataRead.occurred_at >= since)
    if until:
        query = query.where(PersonalDataRead.occurred_at < until)
    if updated_since is not None:  # tied to the instant as the first followers' cursors were (not its ISO form)
        filters |= {"updated_since": updated_since}
    return await READS.page(
        at.session, query, _read_out, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )
