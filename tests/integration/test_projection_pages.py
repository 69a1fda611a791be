"""A page of the roster's feed applied set-wise ends where the per-event handlers end (issue #16).

Property (hypothesis, real PostgreSQL): for any sequence of a few workers' events — shuffled, repeated,
older versions arriving late, full employment lists and single employments, transfers closing post periods,
back-dated post assignments, posts before the hire — applying it page by page with the consumers' page
handlers (``apply_roster_page`` of compensation and of evaluation, any page size, each page its own
transaction) leaves exactly the projection that applying the same sequence one event at a time, in order,
with the per-event handlers (``apply_worker`` / ``apply_post``) leaves: the workers (every column but the
``recorded_at`` timestamp), their employments and post periods in compensation, and the workers with their
post in evaluation. The grades' and quotas' page handlers are checked the same way (the last of a key wins).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from services.compensation import projections as compensation
from services.compensation.models import AssessmentGrade, ClosedCycle, Employment, PostPeriod, QuotaProjection
from services.compensation.models import WorkerProjection as CompensationWorker
from services.evaluation import projections as evaluation
from services.evaluation.models import WorkerProjection as EvaluationWorker
from services.roster import projections as roster
from services.roster.models import AssessmentResult

DATES = [date(2025, 1, 1), date(2025, 3, 1), date(2025, 6, 1), date(2025, 9, 1)]
COMMUNITIES = ["330302001001", "330302002003"]
WORKER_TYPES = ["worker.hired", "worker.updated", "worker.left", "worker.transferred"]

Event = dict[str, Any]
PageHandler = Callable[[AsyncSession, list[Event]], Awaitable[None]]
EventHandler = Callable[[AsyncSession, Event], Awaitable[None]]


@st.composite
def worker_event(draw: st.DrawFn, worker_id: str) -> Event:
    kind = draw(st.sampled_from(WORKER_TYPES))
    hire = draw(st.sampled_from(DATES))
    left = draw(st.none() | st.sampled_from(DATES))
    employments = draw(
        st.none()
        | st.lists(st.sampled_from(DATES), max_size=3, unique=True).map(
            lambda hires: [
                {
                    "hire_date": h.isoformat(),
                    "left_date": None if n == len(hires) - 1 else h.replace(month=2).isoformat(),
                }
                for n, h in enumerate(sorted(hires))
            ]
        )
    )
    data: dict[str, Any] = {
        "worker_id": worker_id,
        "name": draw(st.sampled_from(["甲", "乙", "丙"])),
        "community_code": draw(st.sampled_from(COMMUNITIES)),
        "status": "left" if kind == "worker.left" else draw(st.sampled_from(["active", "probation", "on_loan"])),
        "hire_date": hire.isoformat(),
        "left_date": left.isoformat() if left else None,
        "education": draw(st.sampled_from([None, "bachelor", "master"])),
        "certificate_level": draw(st.sampled_from([None, "assistant", "social_worker"])),
        "certificate_date": None,
        "version": draw(st.integers(1, 4)),
        "employments": employments,
    }
    if kind == "worker.transferred":
        effective = draw(st.none() | st.sampled_from(DATES))
        data["effective_date"] = effective.isoformat() if effective else None
    return {"type": kind, "data": data}


@st.composite
def post_event(draw: st.DrawFn, worker_id: str) -> Event:
    return {
        "type": "post.assigned",
        "data": {
            "worker_id": worker_id,
            "post": draw(st.sampled_from(["staff", "deputy", "chief"])),
            "grade": draw(st.integers(1, 12)),
            "start_date": draw(st.sampled_from(DATES)).isoformat(),
            "duties": [],
        },
    }


@st.composite
def feed(draw: st.DrawFn) -> tuple[list[Event], list[Event], int]:
    """(events already applied before, the sequence, a page size): a pool of distinct events of two workers,
    and a sequence drawn from it with repeats (duplicates, shuffles, late older versions)."""
    workers = [str(uuid.uuid4()) for _ in range(2)]
    pool = draw(
        st.lists(
            st.sampled_from(workers).flatmap(lambda w: worker_event(w) | post_event(w) | post_event(w)),
            min_size=1,
            max_size=10,
        )
    )
    sequence = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=20))
    before = draw(st.lists(st.sampled_from(pool), max_size=3))
    return before, sequence, draw(st.integers(1, 8))


async def projection(session: AsyncSession, ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every projected row of these workers (recorded_at aside), in a stable order."""
    w = CompensationWorker
    queries = {
        "compensation workers": select(
            w.worker_id, w.name, w.community_code, w.community_path, w.township_code, w.status, w.hire_date,
            w.left_date, w.education, w.certificate_level, w.certificate_date, w.source_version,
        ).where(w.worker_id.in_(ids)),
        "employments": select(Employment.worker_id, Employment.hire_date, Employment.left_date).where(
            Employment.worker_id.in_(ids)
        ),
        "post periods": select(
            PostPeriod.worker_id, PostPeriod.start_date, PostPeriod.end_date, PostPeriod.post, PostPeriod.grade
        ).where(PostPeriod.worker_id.in_(ids)),
        "evaluation workers": select(
            EvaluationWorker.worker_id, EvaluationWorker.name, EvaluationWorker.community_path,
            EvaluationWorker.status, EvaluationWorker.hire_date, EvaluationWorker.left_date,
            EvaluationWorker.source_version, EvaluationWorker.post,
        ).where(EvaluationWorker.worker_id.in_(ids)),
    }  # fmt: skip
    return {name: sorted(tuple(row) for row in (await session.execute(q)).all()) for name, q in queries.items()}


async def one_by_one(maker: async_sessionmaker[AsyncSession], events: Sequence[Event]) -> None:
    handlers: dict[str, list[EventHandler]] = {
        t: [compensation.apply_worker, evaluation.apply_worker] for t in WORKER_TYPES
    }
    handlers["post.assigned"] = [compensation.apply_post, evaluation.apply_post]
    async with maker() as session:
        for event in events:
            for handler in handlers[event["type"]]:
                await handler(session, event)
        await session.commit()


async def page_by_page(
    maker: async_sessionmaker[AsyncSession], events: Sequence[Event], size: int, handlers: Sequence[PageHandler]
) -> None:
    for start in range(0, len(events), size):
        async with maker() as session:
            for handler in handlers:
                await handler(session, list(events[start : start + size]))
            await session.commit()


async def outcome(
    database_url: str, run: Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]], ids: list[str]
) -> Any:
    """What ``run`` leaves, inside a transaction rolled back afterwards (every commit a savepoint)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            outer = await conn.begin()
            maker = async_sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
            await run(maker)
            async with maker() as session:
                result = await projection(session, ids)
            await outer.rollback()
            return result
    finally:
        await engine.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(feed())
async def test_a_page_applied_set_wise_equals_its_events_applied_one_by_one(
    database_url: str, case: tuple[list[Event], list[Event], int]
) -> None:
    before, sequence, size = case
    ids = sorted({e["data"]["worker_id"] for e in before + sequence})
    pages = [compensation.apply_roster_page, evaluation.apply_roster_page]

    async def reference(maker: async_sessionmaker[AsyncSession]) -> None:
        await one_by_one(maker, before)
        await one_by_one(maker, sequence)

    async def product(maker: async_sessionmaker[AsyncSession]) -> None:
        await one_by_one(maker, before)
        await page_by_page(maker, sequence, size, pages)

    expected = await outcome(database_url, reference, ids)
    assert await outcome(database_url, product, ids) == expected
    assert expected["compensation workers"] or not any(e["type"] in WORKER_TYPES for e in sequence)


@st.composite
def grades(draw: st.DrawFn) -> tuple[list[Event], int]:
    workers = [str(uuid.uuid4()) for _ in range(2)]
    events = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["assessment.finalized", "assessment.appealed"]),
                    "data": st.fixed_dictionaries(
                        {
                            "worker_id": st.sampled_from(workers),
                            "year": st.sampled_from([2024, 2025]),
                            "grade": st.sampled_from(["excellent", "competent", "incompetent"]),
                        }
                    ),
                }
            ),
            min_size=1,
            max_size=10,
        )
    )
    return events, draw(st.integers(1, 5))


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(grades())
async def test_grades_and_quotas_pages_keep_the_last_of_each_key(
    database_url: str, case: tuple[list[Event], int]
) -> None:
    events, size = case
    ids = sorted({e["data"]["worker_id"] for e in events})
    county = f"9{uuid.uuid4().int % 10**5:05d}"  # a county code no other test uses
    quotas = [
        {"type": "quota.set", "data": {"county_code": county, "year": 2025 + n % 2, "headcount": n}} for n in range(5)
    ]

    township = f"{county}001000"
    closings = [  # C5: a township's cycle of a year closed (the last of a township and year wins)
        {
            "type": "cycle.closed",
            "data": {"cycle_id": str(uuid.uuid4()), "township_code": township, "year": 2025 + n % 2, "results": n},
        }
        for n in range(5)
    ]

    async def check(maker: async_sessionmaker[AsyncSession]) -> None:
        await page_by_page(maker, events, size, [compensation.apply_evaluation_page, roster.apply_assessment_page])
        await page_by_page(maker, quotas, size, [compensation.apply_roster_page])
        await page_by_page(maker, closings, size, [compensation.apply_evaluation_page])
        last = {(e["data"]["worker_id"], e["data"]["year"]): e["data"]["grade"] for e in events}
        async with maker() as session:
            for model in (AssessmentGrade, AssessmentResult):
                rows = (
                    await session.execute(
                        select(model.worker_id, model.year, model.grade).where(model.worker_id.in_(ids))
                    )
                ).all()
                assert {(str(w), y): g for w, y, g in rows} == last
            stored = (
                await session.execute(
                    select(QuotaProjection.year, QuotaProjection.headcount).where(QuotaProjection.county_code == county)
                )
            ).all()
            assert dict(stored) == {2025: 4, 2026: 3}
            closed = (
                await session.execute(
                    select(ClosedCycle.year, ClosedCycle.results).where(ClosedCycle.township_code == township)
                )
            ).all()
            assert dict(closed) == {2025: 4, 2026: 3}

    await outcome(database_url, check, ids)
