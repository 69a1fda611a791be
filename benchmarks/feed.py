"""Benchmark: feed catch-up — compensation's projection applying the roster's events from an empty cursor.

Seeds the roster's real outbox (``roster.events`` and its commit order ``roster.event_commits``, one
transaction per event as the roster writes them) with N events: per ten, six ``worker.hired``, three
``post.assigned`` for workers just hired and one ``worker.updated`` (version 2). Then, on the same rows:

- **product**: the compensation app's own ``FeedConsumer`` for the roster (its handlers, its page size,
  one transaction per page with the cursor) reading ``GET /v1/events`` of the roster app in-process
  (``httpx.ASGITransport``: real routing, token check and serialisation, no socket), from an empty cursor
  until a poll finds nothing; the process's startup heap frozen first, as the consumer's loop does.
- **floor**: a bare ``SELECT`` of the same event rows in the feed's order (commit position, id), fetched.
- **check**: the projection holds every worker, post period and update the events carry.

Target (issue #16): ≥ 50,000 events/s for 1,000,000 events.

    .venv/bin/python -m benchmarks --only feed [--size feed=1000000]
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import text

from benchmarks.common import Result, bench_token, median, peak_rss_mib, trust_keys
from deploy.local.postgres import scratch_database
from services.compensation.app import create_app as compensation_app
from services.compensation.settings import Settings as CompensationSettings
from services.gateway.keys import new_key
from services.roster.app import create_app as roster_app
from services.roster.settings import Settings as RosterSettings
from shared.auth import Role
from shared.feed_consumer import freeze_startup_heap

NAME = "feed"
ORDER = 20
SMALL, FULL = 20_000, 1_000_000

# Event n: n % 10 in 0..5 hires worker 6·(n/10) + n%10; 6..8 assigns a post to worker 6·(n/10) + n%10 − 6;
# 9 updates worker 6·(n/10) to version 2. One transaction (txid) per event, its position in order.
SEED = """
ALTER TABLE roster.events DISABLE TRIGGER events_commit_position;
INSERT INTO roster.event_commits (txid) SELECT 1000000000 + n FROM generate_series(0, :events - 1) n ORDER BY n;
INSERT INTO roster.events (txid, type, subject, data)
  SELECT 1000000000 + n, kind, 'worker/' || wid, CASE kind
           WHEN 'post.assigned' THEN jsonb_build_object(
             'worker_id', wid, 'community_code', code, 'post', 'staff', 'grade', 1 + k % 12,
             'start_date', '2025-01-01', 'duties', '[]'::jsonb)
           ELSE jsonb_build_object(
             'worker_id', wid, 'name', CASE kind WHEN 'worker.updated' THEN 'v' ELSE 'w' END || k,
             'community_code', code, 'county_code', left(code, 6), 'status', 'active', 'hire_date', '2025-01-01',
             'version', CASE kind WHEN 'worker.updated' THEN 2 ELSE 1 END,
             'employments', jsonb_build_array(jsonb_build_object('hire_date', '2025-01-01', 'left_date', NULL)),
             'changed', CASE kind WHEN 'worker.updated' THEN '["name"]'::jsonb END)
         END
  FROM (SELECT n, k, md5('w' || k)::uuid::text AS wid,
               '33' || lpad((1 + k % 11)::text, 2, '0') || lpad((1 + k / 11 % 10)::text, 2, '0') || '001001' AS code,
               CASE WHEN n % 10 < 6 THEN 'worker.hired' WHEN n % 10 < 9 THEN 'post.assigned' ELSE 'worker.updated' END AS kind
        FROM (SELECT n, 6 * (n / 10) + CASE WHEN n % 10 < 6 THEN n % 10 WHEN n % 10 < 9 THEN n % 10 - 6 ELSE 0 END AS k
              FROM generate_series(0, :events - 1) n) s) e
  ORDER BY n;
ALTER TABLE roster.events ENABLE TRIGGER events_commit_position;
ANALYZE roster.events;
ANALYZE roster.event_commits;
"""

FLOOR = """
SELECT c.position, e.id, e.type, e.subject, e.occurred_at, e.request_id, e.data
FROM roster.events e JOIN roster.event_commits c ON c.txid = e.txid
ORDER BY c.position, e.id
"""


class StaticCredentials:
    """The compensation service's own token, minted here (no gateway in-process)."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def expected_counts(events: int) -> dict[str, int]:
    kinds = [n % 10 for n in range(events)]
    return {
        "workers": sum(k < 6 for k in kinds),
        "post periods": sum(6 <= k < 9 for k in kinds),
        "updated": sum(k == 9 for k in kinds),
    }


async def bare_select(url: str, runs: int) -> tuple[list[float], int]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    timings, count = [], 0
    try:
        for _ in range(runs):
            started = time.perf_counter()
            count = len(await conn.fetch(FLOOR))
            timings.append(time.perf_counter() - started)
    finally:
        await conn.close()
    return timings, count


async def measure(url: str, scratch: Path, events: int) -> list[Result]:
    new_key(scratch / "keys")
    roster = roster_app(RosterSettings(database_url=url, access_log=False, feeds_enabled=False))
    compensation = compensation_app(CompensationSettings(database_url=url, access_log=False, feeds_enabled=False))
    trust_keys(roster, scratch / "keys")
    trust_keys(compensation, scratch / "keys")
    async with roster.router.lifespan_context(roster), compensation.router.lifespan_context(compensation):
        started = time.perf_counter()
        async with roster.state.engine.begin() as conn:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"events": events} if ":events" in statement else {})
        print(f"seeded {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
        floor_timings, floor_rows = await bare_select(url, 3)
        await compensation.state.http.aclose()
        compensation.state.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=roster), base_url="http://roster", timeout=120
        )
        compensation.state.service_credentials = StaticCredentials(
            bench_token(scratch / "keys", (Role.service, "330000"), subject="client:compensation")
        )
        consumer = next(f for f in compensation.state.feeds if f.source == "roster")
        freeze_startup_heap()  # as the consumer's loop does when it starts (FeedConsumer.run)
        applied = 0
        started = time.perf_counter()
        while True:
            page = await consumer.poll_once()
            applied += page
            if page == 0:
                break
        elapsed = time.perf_counter() - started
        async with compensation.state.engine.connect() as conn:
            got = {
                "workers": await conn.scalar(text("SELECT count(*) FROM compensation.workers")),
                "post periods": await conn.scalar(text("SELECT count(*) FROM compensation.post_periods")),
                "updated": await conn.scalar(
                    text("SELECT count(*) FROM compensation.workers WHERE source_version = 2")
                ),
            }
    expected = expected_counts(events)
    rate, floor_rate = applied / elapsed, floor_rows / median(floor_timings)
    return [
        Result(
            path="feed catch-up (compensation's FeedConsumer over the roster's outbox)",
            size=f"{events:,} events, page {consumer.page_size} × {consumer.pages_per_poll} a poll",
            figure=rate,
            unit="events/s",
            floor_label="bare SELECT of the same event rows",
            floor=floor_rate,
            higher_is_better=True,
            target="≥ 50,000 events/s",
            met=rate >= 50_000,
            checks=[f"{applied:,} applied = {floor_rows:,} rows", f"projection {got} = expected"],
            checks_passed=applied == floor_rows == events and got == expected,
            peak_rss_mib=peak_rss_mib(),
            notes=f"catch-up took {elapsed:.1f} s; floor median of 3",
        )
    ]


def run(size: int | None, full: bool) -> list[Result]:
    events = size or (FULL if full else SMALL)
    with scratch_database(["roster", "compensation"]) as (url, scratch):
        return asyncio.run(measure(url, scratch, events))
