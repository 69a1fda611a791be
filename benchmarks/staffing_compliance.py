"""Benchmark: the staffing compliance report for a whole province of 100,000 workers.

Builds a synthetic province in a throw-away PostgreSQL (11 cities × 10 counties × 10 townships ×
9 communities = 9,900 communities; 100,000 workers; a chief and a deputy in most communities) with
set-based SQL, then times ``GET /v1/reports/staffing?region=330000`` through the roster app in-process
(its real SQL and rules; no network), and the same for one county. Target (issue #4): ≤ 1 s.

    .venv/bin/python benchmarks/staffing_compliance.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local.postgres import scratch_database  # noqa: E402
from services.gateway.keys import SigningKeys, new_key  # noqa: E402
from services.gateway.tokens import issue_access_token  # noqa: E402
from services.roster.app import create_app  # noqa: E402
from services.roster.settings import Settings  # noqa: E402
from shared.auth import Grant, Principal, Role, TokenVerifier  # noqa: E402

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
  JOIN generate_series(0, 99999) n ON (n % 9900) + 1 = c.i;
INSERT INTO roster.post_assignments (worker_id, community_code, post, grade, start_date)
  SELECT id, community_code, CASE WHEN rk = 1 THEN 'chief' ELSE 'deputy' END, 10, date '2025-01-01'
  FROM (SELECT id, community_code, row_number() OVER (PARTITION BY community_code ORDER BY id) AS rk FROM roster.workers) w
  WHERE rk <= 2 AND right(community_code, 3) <> '001';
ANALYZE;
"""


async def run(url: str, keys_dir: Path, runs: int) -> None:
    keys = SigningKeys(keys_dir)
    token = issue_access_token(keys, Principal("user:bench", "bench", (Grant(Role.province_admin, "330000"),)), 600)
    app = create_app(Settings(database_url=url, access_log=False))

    async def jwks() -> dict[str, object]:
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(jwks)
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as conn:
            started = time.perf_counter()
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement))
            print(f"seeded in {time.perf_counter() - started:.1f} s")
        async with app.state.engine.connect() as conn:
            counts = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM roster.workers), (SELECT count(*) FROM roster.regions WHERE level = 'community')"
                    )
                )
            ).one()
        print(f"province: {counts[0]:,} workers in {counts[1]:,} communities")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster", timeout=60) as client:
            for label, region in (("province 330000", "330000"), ("county 330101", "330101")):
                timings = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    response = await client.get(
                        "/v1/reports/staffing",
                        params={"region": region, "date": "2026-06-01"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    timings.append(time.perf_counter() - t0)
                    assert response.status_code == 200, response.text
                body = response.json()
                print(
                    f"{label:17s} {len(body['communities']):6,} communities {body['findings']:6,} findings   "
                    f"median {statistics.median(timings) * 1000:7.0f} ms   best {min(timings) * 1000:7.0f} ms   "
                    f"({runs} runs, {len(response.content) / 1e6:.1f} MB JSON)"
                )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with scratch_database(["roster"]) as (url, scratch):
        keys_dir = scratch / "keys"
        new_key(keys_dir)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        asyncio.run(run(url, keys_dir, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
