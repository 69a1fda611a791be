"""Benchmark: exporting the workers list (CSV, NDJSON, .xlsx) stays flat in memory; its time against
``COPY … TO STDOUT`` of the same rows (the floor: PostgreSQL writing CSV with no application at all).

Seeds a throw-away PostgreSQL with 100,000 roster workers (ten counties of 10,000, an employment and a
post each) by set-based SQL, then streams ``GET /v1/workers?format=…`` through the roster app in-process
(the ASGI app called directly; the body is counted and dropped, as a socket would) for one county
(10^4 rows) and for the province (10^5 rows). Peak RSS growth is sampled every 20 ms during each export.

    .venv/bin/python benchmarks/export.py [--workers 100000] [--formats csv,ndjson,xlsx]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local.postgres import scratch_database  # noqa: E402
from services.gateway.keys import SigningKeys, new_key  # noqa: E402
from services.gateway.tokens import issue_access_token  # noqa: E402
from services.roster.app import create_app  # noqa: E402
from services.roster.settings import Settings  # noqa: E402
from shared.auth import Grant, Principal, Role, TokenVerifier  # noqa: E402

COUNTIES = [f"3301{n:02d}" for n in range(2, 12)]  # ten counties of 杭州 (codes need only be well-formed)
SEED = """
INSERT INTO roster.regions (code, path, parent_code, level, name) VALUES
  ('330000', '330000000000', NULL, 'province', '浙江省'), ('330100', '330100000000', '330000', 'city', '杭州市');
INSERT INTO roster.regions (code, path, parent_code, level, name)
  SELECT c, c || '000000', '330100', 'county', '区县' || c FROM unnest(CAST(:counties AS text[])) c;
INSERT INTO roster.regions (code, path, parent_code, level, name)
  SELECT c || '001000', c || '001000', c, 'township', '街道' || c FROM unnest(CAST(:counties AS text[])) c;
INSERT INTO roster.regions (code, path, parent_code, level, name, kind, households)
  SELECT c || '001' || lpad(k::text, 3, '0'), c || '001' || lpad(k::text, 3, '0'), c || '001000', 'community',
         '社区' || k, 'urban', 2000
  FROM unnest(CAST(:counties AS text[])) c, generate_series(1, 20) k;
INSERT INTO roster.workers (id, id_number_key, id_number, name, sex, birth_date, phone, community_code, community_path,
                            status, hire_date)
  SELECT md5(n::text)::uuid, md5('k' || n::text), '33010219880808' || lpad((n % 10000)::text, 4, '0'),
         '社工' || n || '号', CASE n % 2 WHEN 0 THEN 'male' ELSE 'female' END, date '1988-08-08',
         '139' || lpad(n::text, 8, '0'), code, code, 'active', date '2024-01-05'
  FROM (SELECT n, (CAST(:counties AS text[]))[1 + n % 10] || '001' || lpad((1 + n / 10 % 20)::text, 3, '0') AS code
        FROM generate_series(0, :workers - 1) n) s;
INSERT INTO roster.employments (worker_id, hire_date, probation_end)
  SELECT id, hire_date, hire_date + 180 FROM roster.workers;
INSERT INTO roster.post_assignments (worker_id, community_code, post, grade, start_date)
  SELECT id, community_code, 'staff', 1 + abs(hashtext(id::text)) % 12, date '2024-01-05' FROM roster.workers;
ANALYZE;
"""
COPY_QUERY = """
SELECT w.id, w.id_number, w.name, w.sex, w.birth_date, w.phone, w.community_code, w.status, w.hire_date,
       e.probation_end, p.post, p.grade, w.version, w.updated_at
FROM roster.workers w JOIN roster.employments e ON e.worker_id = w.id
LEFT JOIN roster.post_assignments p ON p.worker_id = w.id AND p.end_date IS NULL
WHERE w.community_path LIKE '{prefix}%' ORDER BY w.id
"""


async def stream(app: Any, path: str, query: str, token: str) -> tuple[int, int]:
    """Call the ASGI app once; count the body's bytes and drop them. (status, bytes)"""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"roster"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("roster", 80),
        "state": {},
    }
    status, size = 0, 0
    requested, finished = False, asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays until the whole body is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    return status, size


async def peak_rss_during(work: Any) -> tuple[Any, int, float]:
    """(result, peak RSS growth in bytes over the start, seconds) of awaiting ``work``."""
    process = psutil.Process()
    gc.collect()
    base = peak = process.memory_info().rss
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    result = await work
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    peak = max(peak, process.memory_info().rss)
    return result, peak - base, elapsed


async def copy_floor(url: str, prefix: str) -> tuple[float, int]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    try:
        started = time.perf_counter()
        await conn.copy_from_query(COPY_QUERY.format(prefix=prefix), output=sink, format="csv", header=True)
        return time.perf_counter() - started, size
    finally:
        await conn.close()


async def run(url: str, keys_dir: Path, workers: int, formats: list[str]) -> None:
    keys = SigningKeys(keys_dir)
    token = issue_access_token(keys, Principal("user:bench", "bench", (Grant(Role.province_admin, "330000"),)), 7200)
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False, lifecycle_enabled=False))

    async def jwks() -> dict[str, object]:
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(jwks)
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        async with app.state.engine.begin() as conn:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    params: dict[str, Any] = {}
                    if ":counties" in statement:
                        params["counties"] = COUNTIES
                    if ":workers" in statement:
                        params["workers"] = workers
                    await conn.execute(text(statement), params)
        print(f"seeded {workers:,} workers in {time.perf_counter() - started:.1f} s")
        await stream(app, "/v1/workers", "format=csv&region=330102", token)  # warm up: pools, imports
        print(
            f"{'format':7s} {'rows':>8s} {'seconds':>8s} {'MB out':>8s} {'peak RSS +MB':>13s} {'COPY s':>7s} {'ratio':>6s}"
        )
        for region, rows in (("330102", workers // 10), ("330000", workers)):
            prefix = "330102" if region == "330102" else "33"
            floor, _ = await copy_floor(url, prefix)
            for fmt in formats:
                (status, size), growth, elapsed = await peak_rss_during(
                    stream(app, "/v1/workers", f"format={fmt}&region={region}", token)
                )
                assert status == 200, status
                print(
                    f"{fmt:7s} {rows:8,d} {elapsed:8.2f} {size / 1e6:8.1f} {growth / 1e6:13.1f} {floor:7.2f} "
                    f"{elapsed / floor:6.1f}"
                )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,ndjson,xlsx")
    args = parser.parse_args()
    with scratch_database(["roster"]) as (url, scratch):
        keys_dir = scratch / "keys"
        new_key(keys_dir)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        asyncio.run(run(url, keys_dir, args.workers, args.formats.split(",")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
