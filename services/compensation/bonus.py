"""The bonus ledger (C5): a township's annual pool shared by assessment grade coefficient × months in
post, allocated once per township and year.

At most one allocation of a township and year is live (``bonus_allocations_live_key``, a partial unique
index on the rows not reversed): posting a second is refused, whatever the timing of two requests.
Changing an allocation is a replacement: the earlier one is reversed (``reversed_at``, ``reversed_by``,
``replaced_by``) and kept, the new one says which it ``replaces`` and why, and both are events in the
outbox (``bonus.reversed``, ``bonus.allocated``), so what was allocated when stays auditable.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.bonus import Claim, share_pool
from services.compensation.models import (
    AssessmentGrade,
    BonusAllocation,
    ClosedCycle,
    Employment,
    PostPeriod,
    WorkerProjection,
    events,
)
from services.compensation.policies import policy_for
from services.compensation.schemas import BonusOut, BonusShare
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, LocalizedFieldError, UnprocessableContent
from shared.read_models import from_row
from shared.scoping import RegionScoped
from shared.vocabulary import AssessmentGrade as AssessmentGradeCode

LIVE_INDEX = "bonus_allocations_live_key"


def months_in_post(
    periods: list[tuple[date, date | None]], employments: list[tuple[date, date | None]], year: int
) -> Decimal:
    """Months in post in the year, by days (a whole year is 12): the days of the post periods ``[start, end)``
    that fall inside an employment ``[hire, left]`` (a leaver's last post has no end of its own, C6)."""
    first, after = date(year, 1, 1), date(year + 1, 1, 1)
    days = 0
    for start, end in periods:
        for hire, left in employments:
            since = max(start, hire, first)
            until = min(end or after, left + timedelta(days=1) if left else after, after)
            days += max(0, (until - since).days)
    return (Decimal(days) * 12 / Decimal((after - first).days)).quantize(Decimal("0.01"))


def allocation_out(row: BonusAllocation) -> BonusOut:
    return from_row(BonusOut, row, live=row.reversed_at is None)


def already_allocated(existing: BonusAllocation) -> Conflict:
    """409 naming the live allocation (C5: a township's pool is allocated once a year)."""
    return _naming(
        existing.id,
        Message(
            "{township} {year} 年绩效奖金已分配（{id}），不可重复分配；如需更改请更正该分配（C5）",
            "The {year} bonus of {township} is already allocated ({id}); replace that allocation to change it (C5)",
        ),
        errors=[
            LocalizedFieldError(
                "/body/year",
                "year",
                Message("该乡镇本年度已有有效的奖金分配", "The township already has a live allocation for the year"),
                type="duplicate",
                rule="C5",
            )
        ],
        township=existing.township_code,
        year=existing.year,
        id=existing.id,
    )


def _naming(allocation_id: uuid.UUID | None, detail: Message, **details: Any) -> Conflict:
    """A 409 (C5) naming an allocation, in ``allocation_id`` too, for the client to follow."""
    problem = Conflict(detail, rule="C5", **details)
    problem.extra = {"allocation_id": str(allocation_id)}
    return problem


async def live_allocation(session: AsyncSession, township: str, year: int) -> BonusAllocation | None:
    return await session.scalar(
        select(BonusAllocation).where(
            BonusAllocation.township_code == township,
            BonusAllocation.year == year,
            BonusAllocation.reversed_at.is_(None),
        )
    )


async def _dated(
    session: AsyncSession, table: type[PostPeriod | Employment], start: Any, end: Any, workers: list[Any]
) -> dict[Any, list[tuple[date, date | None]]]:
    """Each worker's date ranges from ``table`` (post periods, employments)."""
    found: dict[Any, list[tuple[date, date | None]]] = {}
    rows = await session.execute(select(table.worker_id, start, end).where(table.worker_id.in_(workers)))
    for worker_id, since, until in rows.all():
        found.setdefault(worker_id, []).append((since, until))
    return found


NOT_CLOSED = Message(
    "该乡镇 {year} 年考核尚未关闭，或考核结果尚未全部到达薪酬服务：考核关闭后再分配",
    "The township's {year} assessment is not closed, or not all its grades have reached payroll yet: "
    "allocate once it is closed",
)


async def compute_shares(session: AsyncSession, township: str, year: int, pool: Decimal) -> list[BonusShare]:
    """Each assessed worker's share of ``pool`` by the county's grade coefficients × months in post (C5)."""
    policy = await policy_for(session, township, year)
    if not policy.bonus_coefficients:
        raise UnprocessableContent(
            Message("县级尚未设定各等次奖金系数", "The county has not set the bonus coefficient of each grade"),
            rule="C5",
        )
    if await session.get(ClosedCycle, (township, year)) is None:
        # C5 shares every graded worker: never on the part of a cycle's grades that has arrived so far
        raise Conflict(NOT_CLOSED, rule="C5", year=year)
    grades = dict(
        (
            await session.execute(
                select(AssessmentGrade.worker_id, AssessmentGrade.grade)
                .join(WorkerProjection, WorkerProjection.worker_id == AssessmentGrade.worker_id)
                .where(AssessmentGrade.year == year, WorkerProjection.township_code == township)
            )
        ).all()
    )
    if not grades:
        raise UnprocessableContent(
            Message("该乡镇 {year} 年无考核结果", "No {year} assessment results for the township"), rule="C5", year=year
        )
    missing = sorted(set(grades.values()) - set(policy.bonus_coefficients))
    if missing:
        raise UnprocessableContent(
            Message("缺少等次系数：{g}", "No coefficient for: {g}"), rule="C5", g=", ".join(missing)
        )
    periods = await _dated(session, PostPeriod, PostPeriod.start_date, PostPeriod.end_date, list(grades))
    employed = await _dated(session, Employment, Employment.hire_date, Employment.left_date, list(grades))
    claims = [
        Claim(str(w), g, months_in_post(periods.get(w, []), employed.get(w, []), year)) for w, g in grades.items()
    ]
    if all(policy.bonus_coefficients[c.grade] * c.months == 0 for c in claims):
        raise UnprocessableContent(
            Message(
                "{year} 年该乡镇无人可分奖金：各人等次系数×在岗月数均为 0",
                "Nobody of the township has a part of the {year} pool: every grade coefficient × months in post is 0",
            ),
            rule="C5",
            year=year,
        )
    shares = share_pool(pool, claims, policy.bonus_coefficients)
    out = [
        BonusShare(
            worker_id=uuid.UUID(c.worker_id),
            grade=AssessmentGradeCode(c.grade),
            months=c.months,
            coefficient=policy.bonus_coefficients[c.grade],
            share=shares[c.worker_id],
        )
        for c in sorted(claims, key=lambda c: c.worker_id)
    ]
    assert sum((s.share for s in out), Decimal(0)) == pool  # C5: to the cent
    return out


async def _insert(session: AsyncSession, row: BonusAllocation) -> BonusAllocation:
    """Insert ``row``; a live allocation of the same township and year (a concurrent post) → 409."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        if LIVE_INDEX not in str(exc.orig):
            raise
        existing = await live_allocation(session, row.township_code, row.year)
        assert existing is not None
        raise already_allocated(existing) from exc
    await session.refresh(row)
    return row


async def allocate(session: AsyncSession, township: str, year: int, pool: Decimal, by: str) -> BonusAllocation:
    """The township's allocation for the year (C5), refused (409) when one is already live."""
    existing = await live_allocation(session, township, year)
    if existing is not None:
        raise already_allocated(existing)
    shares = await compute_shares(session, township, year, pool)
    row = await _insert(
        session,
        BonusAllocation(
            township_code=township,
            year=year,
            pool=pool,
            shares=[s.model_dump(mode="json") for s in shares],
            created_by=by,
        ),
    )
    await record_event(
        session,
        events,
        "bonus.allocated",
        f"bonus/{row.id}",
        {"township_code": township, "year": year, "pool": str(pool), "replaces": None},
    )
    return row


def already_replaced(earlier: BonusAllocation) -> Conflict:
    return _naming(
        earlier.replaced_by,
        Message(
            "该奖金分配已被更正为 {id}，只能更正有效的分配（C5）",
            "This allocation was already replaced by {id}; only the live allocation can be replaced (C5)",
        ),
        id=earlier.replaced_by,
    )


async def replace(
    session: AsyncSession, earlier: BonusAllocation, pool: Decimal, reason: str, by: str
) -> BonusAllocation:
    """Reverse the live allocation ``earlier`` and allocate again with ``pool`` on today's grades (C5).

    The earlier row is locked first, so two replacements of it cannot both succeed: the second finds it
    reversed and gets 409 naming the allocation that replaced it."""
    locked = await session.scalar(
        select(BonusAllocation)
        .where(BonusAllocation.id == earlier.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    if locked.reversed_at is not None:
        raise already_replaced(locked)
    shares = await compute_shares(session, locked.township_code, locked.year, pool)
    new_id = uuid.uuid4()
    locked.reversed_at, locked.reversed_by, locked.replaced_by = datetime.now(UTC), by, new_id
    await session.flush()  # reversed before the new one is inserted: the live index sees one at a time
    row = await _insert(
        session,
        BonusAllocation(
            id=new_id,
            township_code=locked.township_code,
            year=locked.year,
            pool=pool,
            shares=[s.model_dump(mode="json") for s in shares],
            created_by=by,
            replaces=locked.id,
            reason=reason,
        ),
    )
    await record_event(
        session,
        events,
        "bonus.reversed",
        f"bonus/{locked.id}",
        {
            "township_code": locked.township_code,
            "year": locked.year,
            "pool": str(locked.pool),
            "replaced_by": str(new_id),
        },
    )
    await record_event(
        session,
        events,
        "bonus.allocated",
        f"bonus/{row.id}",
        {"township_code": row.township_code, "year": row.year, "pool": str(pool), "replaces": str(locked.id)},
    )
    return row


async def ledger(session: AsyncSession, township_code: str, year: int) -> list[BonusAllocation]:
    """A township's allocations of a year: the reversed ones by reversal, the live one last (C5)."""
    rows = await session.scalars(
        select(BonusAllocation)
        .where(BonusAllocation.township_code == township_code, BonusAllocation.year == year)
        .order_by(BonusAllocation.reversed_at.asc().nulls_last(), BonusAllocation.created_at)
    )
    return list(rows.all())


NO_SUCH_ALLOCATION = Message("奖金分配不存在", "No such bonus allocation")


visible_allocation = RegionScoped(BonusAllocation, lambda r: r.township_code, NO_SUCH_ALLOCATION)
"""An allocation of a township the caller sees (404 otherwise, as if it did not exist)."""
