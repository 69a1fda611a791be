"""Resident visits from the mobile app (E7): offline batches stored visit by visit, read back by the
worker and by household; must-visit households registered and removed. One transaction per use case.

An upload answers for each visit: ``stored``; ``duplicate`` (the app's id is already stored with the same
content: not stored twice); ``conflict`` (the id is stored with other content: not stored); ``refused``,
with the reasons (field, Chinese and English, rule id). The good visits of a batch are stored whatever
happens to the others, so one bad record never blocks a phone's queue.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import MustVisitHousehold, Scheme, Visit, WorkerProjection, events
from services.evaluation.schemas import MustVisitIn, MustVisitOut, VisitBatchOut, VisitIn, VisitOut, VisitResult
from shared.auth import Principal, Role
from shared.events import commits_of, record_event
from shared.i18n import Message
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.problems import FieldError, Forbidden, NotFound, Problem, UnprocessableContent, field_errors_from_validation
from shared.read_models import from_row
from shared.scoping import READ_ROLES, WORKER_ROLES, WRITE_ROLES, own_worker_id, require_write, sees_region, sees_worker

NO_SUCH_WORKER = Message("社工不存在", "No such worker")
NO_SUCH_COMMUNITY = Message("社区不存在：{code}", "No such community: {code}")
MUST_VISIT_WRITERS = frozenset({*WRITE_ROLES, Role.community_secretary})
DEFAULT_MUST_VISIT_DAYS = 30  # E7, when the county has no scheme for the year
# Visits come from the mobile app's era: anything earlier is a phone with a broken clock (and dates near
# year 1 with a positive offset have no UTC form to store).
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=UTC)


async def acting_worker(session: AsyncSession, principal: Principal, worker_id: uuid.UUID | None) -> WorkerProjection:
    """A worker acts for themselves (the token says who); an officer names the worker, within its region."""
    if Role.worker in principal.roles and not principal.has_any(WRITE_ROLES):
        own = own_worker_id(principal)
        if own is None or (worker_id is not None and worker_id != own):
            raise Forbidden(Message("只能为本人录入", "A worker records only for themselves"))
        worker_id = own
    if worker_id is None:
        raise UnprocessableContent(Message("需要 worker_id", "worker_id is required"))
    worker = await session.get(WorkerProjection, worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_WORKER)
    if not (str(worker.worker_id) == principal.worker_id or sees_region(principal, worker.community_code, WRITE_ROLES)):
        raise Forbidden(Message("只读：无权修改", "Read-only: not allowed to change this"))
    return worker


def _refusal(index: int, field: str, zh: str, en: str, rule: str | None = "E7", type_: str | None = None) -> FieldError:
    return FieldError.of(
        field, Message(zh, en), pointer=f"/body/visits/{index}/{field}", rule=rule, type=type_ or "rule"
    )


def _problem_errors(index: int, field: str, problem: Problem) -> list[FieldError]:
    """A problem raised for one visit (who records it, for whom) as that visit's reason."""
    detail = problem.detail or problem.title
    params = {k: str(v) for k, v in problem.params.items()}
    return [
        FieldError.of(
            field,
            Message(detail.zh.format(**params), detail.en.format(**params)),
            pointer=f"/body/visits/{index}/{field}",
            type=problem.slug,
        )
    ]


def _same(visit: Visit, values: dict[str, Any]) -> bool:
    return all(getattr(visit, k) == v for k, v in values.items() if k != "recorded_by")


async def _check(
    session: AsyncSession, principal: Principal, index: int, raw: dict[str, Any], latest: datetime
) -> tuple[VisitIn | None, WorkerProjection | None, list[FieldError]]:
    """The visit parsed and its worker, or the reasons it is refused."""
    try:
        item = VisitIn.model_validate(raw)
    except ValidationError as exc:
        located = RequestValidationError(
            [e | {"loc": ("body", "visits", index, *e["loc"])} for e in exc.errors(include_url=False)]
        )
        return None, None, field_errors_from_validation(located)
    try:
        worker = await acting_worker(session, principal, item.worker_id)
    except (Forbidden, NotFound, UnprocessableContent) as problem:
        return item, None, _problem_errors(index, "worker_id", problem)
    errors = []
    if item.ended_at <= item.started_at:
        errors.append(_refusal(index, "ended_at", "结束时间应晚于开始时间", "the end must come after the start"))
    if item.started_at < EARLIEST_VISIT:
        errors.append(
            _refusal(
                index,
                "started_at",
                "时间过早：早于 2000 年（设备时钟有误？）",
                "too early: before 2000 (a wrong device clock?)",
            )
        )
    for field, moment in (("started_at", item.started_at), ("ended_at", item.ended_at)):
        if moment > latest:
            errors.append(
                _refusal(
                    index,
                    field,
                    "时间在将来：走访只能在发生后上传",
                    "lies in the future: a visit is uploaded after it happened",
                )
            )
    if not sees_region(principal, item.community_code) and item.community_code != worker.community_code:
        errors.append(
            _refusal(
                index,
                "community_code",
                f"社区不存在：{item.community_code}",
                f"no such community: {item.community_code}",
                rule=None,
                type_="not_found",
            )
        )
    return item, worker, errors


async def upload_visits(
    session: AsyncSession, principal: Principal, visits: list[dict[str, Any]], now: datetime, clock_skew: timedelta
) -> VisitBatchOut:
    """Each visit checked and stored on its own (E7); one ``visits.recorded`` event per worker and community."""
    results: list[VisitResult] = []
    stored: Counter[tuple[uuid.UUID, str]] = Counter()
    for index, raw in enumerate(visits):
        item, worker, errors = await _check(session, principal, index, raw, now + clock_skew)
        if errors or item is None or worker is None:
            results.append(VisitResult(index=index, id=_id_of(raw), outcome="refused", errors=errors))
            continue
        values = item.model_dump(exclude={"worker_id"}) | {
            "worker_id": worker.worker_id,
            "must_visit_category": item.must_visit_category.value if item.must_visit_category else None,
            "timely_type": item.timely_type.value if item.timely_type else None,
            "recorded_by": principal.subject,
        }
        inserted = await session.execute(insert(Visit).values(**values).on_conflict_do_nothing().returning(Visit.id))
        if inserted.first() is not None:
            results.append(VisitResult(index=index, id=item.id, outcome="stored"))
            stored[(worker.worker_id, item.community_code)] += 1
            continue
        existing = await session.get(Visit, item.id)
        if existing is not None and _same(existing, values):
            results.append(VisitResult(index=index, id=item.id, outcome="duplicate"))
        else:
            conflict = _refusal(
                index,
                "id",
                "该编号已有内容不同的走访记录：未保存",
                "a visit with this id and other content is already stored: not stored",
                rule=None,
                type_="conflict",
            )
            results.append(VisitResult(index=index, id=item.id, outcome="conflict", errors=[conflict]))
    for (worker_id, community), count in sorted(stored.items()):
        await record_event(
            session,
            events,
            "visits.recorded",
            f"worker/{worker_id}",
            {"worker_id": str(worker_id), "community_code": community, "count": count},
        )
    outcomes = Counter(r.outcome for r in results)
    return VisitBatchOut(
        results=results,
        stored=outcomes["stored"],
        duplicates=outcomes["duplicate"],
        refused=outcomes["refused"] + outcomes["conflict"],
    )


def _id_of(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw.get("id"))) if isinstance(raw, dict) else None
    except ValueError:
        return None


def visit_out(v: Visit) -> VisitOut:
    return VisitOut.model_validate(v, from_attributes=True)


VISITS = Listing(Visit, (Key(Visit.started_at, datetime), Key(Visit.id, uuid.UUID)), commits_of(events))
"""Oldest first."""


async def worker_visits(
    at: PageAt, principal: Principal, worker_id: uuid.UUID | None, since: date | None, updated_since: datetime | None
) -> Page[VisitOut]:
    """A worker's visits, oldest first from ``since``: a worker reads only their own. With
    ``updated_since``: those stored since then, in commit order (pull sync)."""
    own = own_worker_id(principal)
    if not principal.has_any(READ_ROLES):
        if own is None or (worker_id is not None and worker_id != own):
            raise NotFound(NO_SUCH_WORKER)
        worker_id = own
    if worker_id is None:
        raise UnprocessableContent(
            Message("需要 worker_id", "worker_id is required"),
            errors=[FieldError.of("worker_id", Message("必填", "required"), pointer="/query/worker_id")],
        )
    worker = await at.session.get(WorkerProjection, worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_WORKER)
    filters = {"worker": str(worker_id), "since": str(since)}
    query = select(Visit).where(Visit.worker_id == worker_id)
    if since is not None:
        query = query.where(Visit.started_at >= datetime.combine(since, time(), tzinfo=UTC))
    return await VISITS.page(
        at.session, query, visit_out, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )


async def household_visits(
    at: PageAt,
    principal: Principal,
    community: str,
    building: str,
    unit: str,
    household: str,
    updated_since: datetime | None,
) -> Page[VisitOut]:
    """A household's visit history, oldest first: for readers of its region and the community's workers.
    With ``updated_since``: the visits stored since then, in commit order (pull sync)."""
    if not (sees_region(principal, community) or sees_region(principal, community, WORKER_ROLES)):
        raise NotFound(NO_SUCH_COMMUNITY, code=community)
    filters = {"household": [community, building, unit, household]}
    query = select(Visit).where(
        Visit.community_code == community, Visit.building == building, Visit.unit == unit, Visit.household == household
    )
    return await VISITS.page(
        at.session, query, visit_out, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )


async def must_visit_days(session: AsyncSession, county: str, year: int) -> int:
    days = await session.scalar(select(Scheme.must_visit_days).where(Scheme.county_code == county, Scheme.year == year))
    return days if days is not None else DEFAULT_MUST_VISIT_DAYS


def must_visit_out(row: MustVisitHousehold, days: int) -> MustVisitOut:
    return from_row(MustVisitOut, row, due=due_date(row.since, days))


def due_date(since: date, days: int) -> date:
    """E7: a must-visit household is visited within ``days`` of ``since`` (the calendar's end at the latest)."""
    try:
        return since + timedelta(days=days)
    except OverflowError:
        return date.max


def _must_visit_data(row: MustVisitHousehold) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "community_code": row.community_code,
        "building": row.building,
        "unit": row.unit,
        "household": row.household,
        "category": row.category,
        "since": row.since.isoformat(),
    }


async def register_must_visit(session: AsyncSession, principal: Principal, body: MustVisitIn) -> MustVisitOut:
    """A household in a must-visit category since a date (E7); again for the same household and category
    moves the date. Published (``must_visit.registered``) for the workers' apps."""
    require_write(principal, body.community_code, NO_SUCH_COMMUNITY, MUST_VISIT_WRITERS)
    statement = insert(MustVisitHousehold).values(
        **body.model_dump() | {"category": body.category.value, "recorded_by": principal.subject}
    )
    row_id = await session.scalar(
        statement.on_conflict_do_update(
            constraint="must_visit_households_community_code_key", set_={"since": statement.excluded.since}
        ).returning(MustVisitHousehold.id)
    )
    row = await session.get(MustVisitHousehold, row_id, populate_existing=True)
    assert row is not None
    await record_event(session, events, "must_visit.registered", f"must-visit/{row.id}", _must_visit_data(row))
    return must_visit_out(row, await must_visit_days(session, row.community_code[:6], row.since.year))


async def remove_must_visit(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> None:
    """The household is no longer a must-visit one (``must_visit.removed``: the apps delete it)."""
    row = await session.get(MustVisitHousehold, household_id, with_for_update=True)
    if row is None or not sees_region(principal, row.community_code):
        raise NotFound(Message("必访户不存在", "No such must-visit household"))
    require_write(principal, row.community_code, NO_SUCH_COMMUNITY, MUST_VISIT_WRITERS)
    data = _must_visit_data(row)
    await session.delete(row)
    await record_event(session, events, "must_visit.removed", f"must-visit/{household_id}", data)
