"""Benchmark: the staffing compliance report for a whole province, beside its own aggregate queries.

Builds a synthetic province in a throw-away PostgreSQL (11 cities × 10 counties × 10 townships ×
9 communities = 9,900 communities; 100,000 workers; a chief and a deputy in most communities) with
set-based SQL, then times ``GET /v1/reports/staffing?region=330000`` through the roster app in-process
(its real SQL and rules; no network), median of 5. Floor: the report's own aggregate queries alone
(communities, posts, quotas, peak headcounts: ``services/roster/compliance.py``) on one session, median
of 5, same data. Check: every community is in the answer and the workers it counts add up to the seed.
Target (issue #16): ≤ 150 ms for 10^5 workers (--full; the default seeds 20,000 over the same 9,900
communities).

    .venv/bin/python -m benchmarks --only staffing [--size staffing=100000]
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text

from benchmarks.common import Result, bench_token, median, peak_rss_mib, trust_keys
from deploy.local.postgres import scratch_database
from services.gateway.keys import new_key
from services.roster.app import create_app
from services.roster.compliance import COMMUNITIES_SQL, POSTS_SQL, QUOTAS_SQL
from services.roster.quota_use import peak_headcounts
from services.roster.settings import Settings
from shared.auth import Role

NAME = "staffing"
ORDER = 30
SMALL, FULL = 20_000, 100_000
RUNS = 5
DAY = date(2026, 6, 1)

SEED = """
INSERT INTO roster.regions (code, path, parent_code, level, name) VALUES ('330000', '330000000000', NULL, 'province', '浙江省');
INSERT INTO roster.regions (code, path, parent_code, level, name)
  SELECT '33' || lpad(c::text, 2, '0') || '00', '33' || lpad(c::text, 2, '0') || '00000000', '330000', 'city', 'city ' || c
  FROM generate_series(1, 11) c;
INSERT INTO roster.regions (code, path, parent_code, level, name)
  SELECT '33' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0'), '33' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || '000000',
         '33' || lpad(c::text, 2, '0') || '00', 'county', 'county ' || c || '-' || k
  FROM generate_series(1, 11) c, generate_series(1, 10) k;
INSERT INTO roster.regions (code, path, parent_code, level, name)
  SELECT r.code || lpad(t::text, 3, '0') || '000', r.code || lpad(t::text, 3, '0') || '000', r.code, 'township', 'township'
  FROM roster.regions r, generate_series(1, 10) t WHERE r.level = 'county';
INSERT INTO roster.regions (code, path, parent_code, level, name, kind, households)
  SELECT left(r.code, 9) || lpad(m::text, 3, '0'), left(r.code, 9) || lpad(m::text, 3, '0'), r.code, 'community',
         'community', CASE WHEN m = 9 THEN 'rural' ELSE 'urban' END, 1500 + (hashtext(r.code || m) & 2047)
  FROM roster.regions r, generate_series(1, 9) m WHERE r.level = 'township';
INSERT INTO roster.quotas (county_code, year, headcount)
  SELECT code, 2026, 950 FROM roster.regions WHERE level = 'county';
INSERT INTO roster.workers (id_number_key, id_number, name, sex, birth_date, community_code, community_path,
                            lives_in_community, generalist, grid_duties, status, hire_date)
  SELECT md5(n::text) || md5((n + 1)::text), lpad(n::text, 18, '0'), 'w' || n, 'male', date '1990-01-01',
         c.code, c.path, n % 7 = 0, n % 3 = 0, n % 97 = 0, 'active', date '2025-01-01'
  FROM (SELECT code, path, row_number() OVER (ORDER BY code) AS i FROM roster.regions WHERE level = 'community') c
  JOIN generate_series(0, :workers - 1) n ON (n % 9900) + 1 = c.i;
INSERT INTO roster.employments (worker_id, hire_date, probation_end) SELECT id, hire_date, hire_date + 180 FROM roster.workers;
INSERT INTO roster.post_assignments (worker_id, community_code, post, grade, start_date)
  SELECT id, community_code, CASE WHEN rk = 1 THEN 'chief' ELSE 'deputy' END, 10, date '2025-01-01'
  FROM (SELECT id, community_code, row_number() OVER (PARTITION BY community_code ORDER BY id) AS rk FROM roster.workers) w
  WHERE rk <= 2 AND right(community_code, 3) <> '001';
ANALYZE;
"""


async def aggregates_alone(app: object, runs: int) -> list[float]:
    """The floor: the report's SQL alone (what it reads from the database), rows fetched, no rules, no JSON."""
    timings = []
    maker = app.state.sessionmaker  # type: ignore[attr-defined]
    for _ in range(runs):
        async with maker() as session:
            started = time.perf_counter()
            (await session.execute(COMMUNITIES_SQL, {"day": DAY, "prefix": "33%"})).mappings().all()
            (await session.execute(POSTS_SQL, {"day": DAY, "prefix": "33%"})).mappings().all()
            (await session.execute(QUOTAS_SQL, {"year": DAY.year, "county_prefix": "33%"})).all()
            await peak_headcounts(session, "33", DAY, DAY)
            timings.append(time.perf_counter() - started)
    return timings


async def measure(url: str, scratch: Path, workers: int) -> list[Result]:
    new_key(scratch / "keys")
    token = bench_token(scratch / "keys", (Role.province_admin, "330000"), ttl=600)
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False))
    trust_keys(app, scratch / "keys")
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as conn:
            started = time.perf_counter()
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"workers": workers} if ":workers" in statement else {})
            print(f"seeded {workers:,} workers in {time.perf_counter() - started:.1f} s", flush=True)
        async with app.state.engine.connect() as conn:
            communities = await conn.scalar(text("SELECT count(*) FROM roster.regions WHERE level = 'community'"))
        timings = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://roster", timeout=60
        ) as client:
            for _ in range(RUNS + 1):  # the first warms the caches and is not counted
                t0 = time.perf_counter()
                response = await client.get(
                    "/v1/reports/staffing",
                    params={"region": "330000", "date": DAY.isoformat()},
                    headers={"Authorization": f"Bearer {token}"},
                )
                timings.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.text
        floor = await aggregates_alone(app, RUNS)
    body = response.json()
    counted = sum(c["actual"] for c in body["communities"])
    product = median(timings[1:]) * 1000
    return [
        Result(
            path="staffing report, province (through the roster app)",
            size=f"{workers:,} workers, {communities:,} communities",
            figure=product,
            unit="ms",
            floor_label="the report's aggregate queries alone",
            floor=median(floor) * 1000,
            target="≤ 150 ms at 10^5",
            met=product <= 150,
            checks=[
                f"{len(body['communities']):,} communities answered, {counted:,} workers counted, "
                f"{body['findings']:,} findings, {len(response.content) / 1e6:.1f} MB"
            ],
            checks_passed=len(body["communities"]) == communities and counted == workers,
            peak_rss_mib=peak_rss_mib(),
            runs=RUNS,
        )
    ]


def run(size: int | None, full: bool) -> list[Result]:
    workers = size or (FULL if full else SMALL)
    with scratch_database(["roster"]) as (url, scratch):
        return asyncio.run(measure(url, scratch, workers))
