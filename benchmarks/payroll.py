"""Benchmark: one month's payroll for 1,000,000 workers, every line, through the compensation app.

Seeds a throw-away PostgreSQL with set-based SQL: 1,000,000 workers in the compensation projection
(spread over 110 counties, one in three holding a certificate, a post and grade each), and a 三岗十八级
scale per county. Then creates a province-wide run (``region_code=330000``) and times
``POST /v1/payroll-runs/{id}/calculate`` through the app in-process — its real SQL, one INSERT … SELECT
per county. Target (issue #5): ≤ 15 s on the 2-core machine.

    .venv/bin/python benchmarks/payroll.py [--workers 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local.postgres import scratch_database  # noqa: E402
from services.compensation.app import create_app  # noqa: E402
from services.compensation.settings import Settings  # noqa: E402
from services.gateway.keys import SigningKeys, new_key  # noqa: E402
from services.gateway.tokens import issue_access_token  # noqa: E402
from shared.auth import Grant, Principal, Role, TokenVerifier  # noqa: E402

SEED = """
INSERT INTO compensation.workers (worker_id, name, community_code, community_path, township_code, status, hire_date,
                                  certificate_level, certificate_date, source_version)
  SELECT md5(n::text)::uuid, 'w' || n, code, code, left(code, 9) || '000', 'active', date '2024-01-05',
         CASE n % 3 WHEN 0 THEN (ARRAY['assistant', 'social_worker', 'senior'])[1 + n % 9 / 3] END, date '2024-06-01', 1
  FROM (SELECT n, '33' || lpad((1 + n % 11)::text, 2, '0') || lpad((1 + n / 11 % 10)::text, 2, '0')
                   || lpad((1 + n / 110 % 10)::text, 3, '0') || lpad((1 + n / 1100 % 9)::text, 3, '0') AS code
        FROM generate_series(0, :workers - 1) n) s;
INSERT INTO compensation.employments (worker_id, hire_date) SELECT worker_id, hire_date FROM compensation.workers;
INSERT INTO compensation.post_periods (worker_id, start_date, post, grade)
  SELECT worker_id, date '2024-01-05',
         CASE WHEN abs(hashtext(worker_id::text)) % 10 = 0 THEN 'chief' WHEN abs(hashtext(worker_id::text)) % 10 < 3 THEN 'deputy' ELSE 'staff' END,
         0
  FROM compensation.workers;
UPDATE compensation.post_periods SET grade = CASE post WHEN 'chief' THEN 7 + abs(hashtext(worker_id::text)) % 12
                                                        WHEN 'deputy' THEN 4 + abs(hashtext(worker_id::text)) % 12
                                                        ELSE 1 + abs(hashtext(worker_id::text)) % 12 END;
INSERT INTO compensation.pay_scale_cells (region_code, year, post, grade, annual_amount)
  SELECT c.county, 2026, p.post, g, p.base + 3000 * g
  FROM (SELECT DISTINCT left(community_path, 6) AS county FROM compensation.workers) c,
       (VALUES ('chief', 100000), ('deputy', 90000), ('staff', 78000)) p(post, base),
       generate_series(1, 18) g;
ANALYZE;
"""


async def run(url: str, keys_dir: Path, workers: int) -> None:
    keys = SigningKeys(keys_dir)
    token = issue_access_token(keys, Principal("user:bench", "bench", (Grant(Role.province_admin, "330000"),)), 3600)
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False))

    async def jwks() -> dict[str, object]:
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(jwks)
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        async with app.state.engine.begin() as conn:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"workers": workers} if ":workers" in statement else {})
        print(f"seeded {workers:,} workers in {time.perf_counter() - started:.1f} s")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://compensation", timeout=600
        ) as client:
            created = await client.post(
                "/v1/payroll-runs", headers=headers, json={"region_code": "330000", "month": "2026-06"}
            )
            run_id = created.json()["id"]
            for attempt in ("first calculation", "recalculation (replaces every line)"):
                t0 = time.perf_counter()
                response = await client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers)
                elapsed = time.perf_counter() - t0
                assert response.status_code == 200, response.text
                body = response.json()
                print(
                    f"{attempt:38s} {elapsed:6.1f} s   {body['workers']:,} workers   gross {body['gross_total']}   "
                    f"net {body['net_total']}   employer {body['employer_total']}"
                )
        async with app.state.engine.connect() as conn:
            lines = await conn.scalar(text("SELECT count(*) FROM compensation.payslips"))
        print(f"{lines:,} payslips (one row per worker, every component a column)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1_000_000)
    args = parser.parse_args()
    bulk = {"max_wal_size": "8GB", "shared_buffers": "1GB", "work_mem": "256MB", "wal_buffers": "64MB"}
    with scratch_database(["compensation"], bulk) as (url, scratch):
        keys_dir = scratch / "keys"
        new_key(keys_dir)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        asyncio.run(run(url, keys_dir, args.workers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
