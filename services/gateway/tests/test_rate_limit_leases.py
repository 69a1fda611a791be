"""Leased blocks of admissions (issue #16): a replica takes a block from the shared cell in one round trip,
and the deployment still admits at most one cell's allowance plus replicas × (block − 1) (issue #15)."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import ServiceFactory, bearer
from services.gateway.domain.rate_limits import Block, block_size, gcra, grant, overshoot_bound
from services.gateway.models import RateLimitCell
from services.gateway.tests.conftest import make_account


def test_blocks_are_a_share_of_the_limit_and_one_for_small_limits() -> None:
    assert block_size(600, 0.02, 50) == 12  # the default user limit: 12 a lease
    assert block_size(6000, 0.02, 50) == 50  # capped
    assert block_size(120, 0.02, 50) == 2
    assert block_size(40, 0.02, 50) == 1  # small limits: a round trip per request, one shared cell exactly
    assert block_size(5, 0.0, 50) == 1
    assert overshoot_bound(3, 12) == 33


def test_a_lease_takes_what_fits_at_most_the_block() -> None:
    # limit 10 a minute: interval 6 s. A fresh cell grants the whole block.
    assert grant(None, 100.0, 10, 60, 4) == (4, 124.0)
    # 7 admissions already taken (tat 42 s ahead): 3 fit (up to 60 s ahead), fewer than the block.
    assert grant(142.0, 100.0, 10, 60, 4) == (3, 160.0)
    assert grant(160.0, 100.0, 10, 60, 4) == (0, None)  # full: refused
    assert grant(160.0, 106.0, 10, 60, 4) == (1, 166.0)  # one interval later, one back


def test_a_block_hands_out_the_headers_one_cell_would() -> None:
    granted, tat = grant(None, 100.0, 10, 60, 4)
    assert tat is not None
    block = Block.leased(tat, granted, 6.0, db_now=100.0, local_at=5.0)
    one_by_one: float | None = None
    for _ in range(4):
        expected, one_by_one = gcra(one_by_one, 100.0, 10, 60)
        assert block.take(5.0, 10, 60) == expected  # remaining 9, 8, 7, 6; reset 6, 12, 18, 24
    assert block.take(5.0, 10, 60) is None  # spent


Request = tuple[float, int]  # (seconds since the previous request, replica)


def simulate(requests: list[Request], replicas: int, limit: int, window: float, size: int) -> list[float]:
    """The times admitted by ``replicas`` leasing blocks of ``size`` from one cell (as RateLimiter does)."""
    interval = window / limit
    tat: float | None = None
    blocks: list[Block | None] = [None] * replicas
    now, admitted = 1000.0, []
    for gap, replica in requests:
        now += gap
        block = blocks[replica % replicas]
        if block is not None and now - block.local_at < window and block.take(now, limit, window) is not None:
            admitted.append(now)
            continue
        granted, moved = grant(tat, now, limit, window, size)
        if granted == 0 or moved is None:
            continue
        tat = moved
        block = blocks[replica % replicas] = Block.leased(moved, granted, interval, now, now)
        assert block.take(now, limit, window) is not None
        admitted.append(now)
    return admitted


requests = st.lists(
    st.tuples(st.sampled_from([0.0, 0.0, 0.05, 0.3, 1.0, 7.0, 30.0, 61.0]), st.integers(0, 5)), max_size=300
)


@settings(max_examples=200, deadline=None)
@given(requests, st.integers(1, 4), st.integers(1, 60), st.integers(1, 12))
def test_replicas_admit_at_most_one_cell_plus_the_bound_in_any_span(
    sequence: list[Request], replicas: int, limit: int, size: int
) -> None:
    window = 60.0
    size = min(size, limit)
    times = simulate(sequence, replicas, limit, window, size)
    interval = window / limit
    bound = overshoot_bound(replicas, size)
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            in_span = j - i + 1  # admissions in [times[i], times[j]]
            one_cell = limit + (times[j] - start) / interval  # GCRA: the burst, then the refill
            assert in_span <= one_cell + bound + 1e-6, (in_span, one_cell, bound)


@settings(max_examples=200, deadline=None)
@given(requests, st.integers(1, 4), st.integers(1, 60))
def test_blocks_of_one_admit_exactly_what_one_cell_admits(sequence: list[Request], replicas: int, limit: int) -> None:
    window = 60.0
    tat: float | None = None
    now, expected = 1000.0, []
    for gap, _ in sequence:
        now += gap
        decision, moved = gcra(tat, now, limit, window)
        if decision.allowed:
            tat = moved
            expected.append(now)
    assert simulate(sequence, replicas, limit, window, 1) == expected


async def test_three_gateway_replicas_lease_blocks_and_hold_the_limit(service_app: ServiceFactory) -> None:
    """Three real gateway apps on one database: one user's limit of 200 an hour (blocks of 10) holds between
    them within 3 × 9, with about one round trip per block instead of one per request."""
    limit, size = 200, 10
    options = {
        "rollback": False,
        "rate_limit_user": limit,
        "rate_limit_window_seconds": 3600.0,
        "rate_limit_lease_share": size / limit,
        "rate_limit_lease_max": 50,
    }
    gateways = [await service_app("gateway", **options) for _ in range(3)]
    worker = await make_account(gateways[0], ("worker", "330302001004"))
    user = bearer(worker.token)
    started = time.monotonic()
    codes: list[int] = []
    for burst in range(30):  # concurrent requests on each replica: they share one lease at a time
        answers = await asyncio.gather(
            *(gateways[(burst + n) % 3].client.get("/api/v1/auth/me", headers=user) for n in range(9))
        )
        codes += [a.status_code for a in answers]
    refill = int((time.monotonic() - started) / (3600 / limit)) + 1
    bound = overshoot_bound(3, size)
    assert limit - bound <= codes.count(200) <= limit + bound + refill, codes.count(200)
    assert codes.count(429) == len(codes) - codes.count(200) > 0
    leases = sum(g.app.state.rate_limiter.leases for g in gateways)
    assert leases <= len(codes) // 3, leases  # admissions by the block, refusals remembered
    async with gateways[0].app.state.sessionmaker() as session:
        blocks = (
            await session.scalars(select(RateLimitCell.granted).where(RateLimitCell.key.like("user:%|200/3600")))
        ).all()
    assert blocks
    assert all(1 <= b <= size for b in blocks)
