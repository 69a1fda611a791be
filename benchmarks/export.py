"""Benchmark: exporting the workers list (CSV, .xlsx) of a province stays flat in memory; its time against
``COPY … TO STDOUT`` of the same rows (the floor: PostgreSQL writing CSV with no application at all). The
workforce export in the import format (``GET /v1/workforce.csv`` and ``.xlsx``, issue #13) likewise.

Seeds a throw-away PostgreSQL with N roster workers (ten counties, an employment and a post each) by
set-based SQL, then streams ``GET /v1/workers?format=…`` through the roster app in-process (the ASGI app
called directly; the body is counted and dropped, as a socket would), and the same for
``GET /v1/workforce.{csv,xlsx}``, for one county (N/10 rows) and for the province (N rows): two sizes, so the peak RSS growth (sampled every 20 ms during each export) shows whether
memory stays flat. N is 20,000 by default, 1,000,000 with ``--full`` (the issue's 10^5 and 10^6). The CSV's
target is also ≤ 2× the floor (issue #16); the .xlsx's only flat memory (a zip of XML has no COPY floor).

    .venv/bin/python -m benchmarks --only export [--size export=100000]
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy import text

from benchmarks.common import Result, bench_token, peak_rss_mib, trust_keys
from deploy.local.postgres import scratch_database
from services.gateway.keys import new_key
from services.roster.app import create_app
from services.roster.settings import Settings
from shared.auth import Role

NAME = "export"
ORDER = 60
SMALL, FULL = 20_000, 1_000_000  # --full: the 10^5 (a county's tenth) and 10^6 rows
# (what, path, query without the region, format): the workers list, and the workforce in the import format
EXPORTS = (
    ("workers", "/v1/workers", "format=csv&", "csv"),
    ("workers", "/v1/workers", "format=xlsx&", "xlsx"),
    ("workforce", "/v1/workforce.csv", "", "csv"),
    ("workforce", "/v1/workforce.xlsx", "", "xlsx"),
)
CSV_TIMES_FLOOR = 2  # issue #16: the CSV within twice COPY's time
FLAT_MIB = 32  # "flat": the province's peak growth stays within this of the county's, at 10× the rows

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


async def measure(url: str, scratch: Path, workers: int) -> list[Result]:
    new_key(scratch / "keys")
    token = bench_token(scratch / "keys", (Role.province_admin, "330000"), ttl=7200)
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False, lifecycle_enabled=False))
    trust_keys(app, scratch / "keys")
    # (what, format, rows) -> (seconds, bytes, peak growth MiB, COPY seconds, status)
    seen: dict[tuple[str, str, int], tuple[float, int, float, float, int]] = {}
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
        print(f"seeded {workers:,} workers in {time.perf_counter() - started:.1f} s", flush=True)
        for _, path, query, _ in EXPORTS:  # warm up: pools, imports
            await stream(app, path, f"{query}region=330102", token)
        for region, prefix in (("330102", "330102"), ("330000", "33")):
            floor, floor_bytes = await copy_floor(url, prefix)
            async with app.state.engine.connect() as conn:
                rows = int(
                    await conn.scalar(
                        text("SELECT count(*) FROM roster.workers WHERE community_path LIKE :p"), {"p": prefix + "%"}
                    )
                    or 0
                )
            for what, path, query, fmt in EXPORTS:
                (status, size), growth, elapsed = await peak_rss_during(
                    stream(app, path, f"{query}region={region}", token)
                )
                seen[(what, fmt, rows)] = (elapsed, size, growth / 2**20, floor, status)
                print(
                    f"{what:9s} {fmt:5s} {rows:8,d} rows {elapsed:7.2f} s {size / 1e6:7.1f} MB, peak RSS +{growth / 2**20:.1f} MiB; "
                    f"COPY {floor:.2f} s ({floor_bytes / 1e6:.1f} MB)",
                    flush=True,
                )
    results = []
    for what, path, _, fmt in EXPORTS:
        (small_rows, small), (big_rows, big) = sorted((k[2], v) for k, v in seen.items() if k[:2] == (what, fmt))
        flat = big[2] <= small[2] + FLAT_MIB
        timed = what == "workers" and fmt == "csv"  # issue #16's CSV target; the others: flat memory
        fast = not timed or big[0] <= CSV_TIMES_FLOOR * big[3]
        described = (
            f"workers export, {fmt} (GET /v1/workers?format={fmt}, province, streamed in-process)"
            if what == "workers"
            else f"workforce export in the import format, {fmt} (GET {path}, province, masked, streamed in-process)"
        )
        results.append(
            Result(
                path=described,
                size=f"{big_rows:,} workers",
                figure=big[0],
                unit="s",
                floor_label="COPY … TO STDOUT (csv) of the same rows",
                floor=big[3],
                target=(f"≤ {CSV_TIMES_FLOOR}× floor; " if timed else "")
                + f"flat memory: peak growth at {big_rows:,} ≤ at {small_rows:,} + {FLAT_MIB} MiB",
                met=flat and fast,
                checks=[
                    f"200 at both sizes, {big[1] / 1e6:.1f} MB streamed",
                    f"peak RSS growth {small[2]:.1f} MiB at {small_rows:,} rows, {big[2]:.1f} MiB at {big_rows:,}",
                ],
                checks_passed=small[4] == big[4] == 200 and big[1] > small[1] > 0,
                peak_rss_mib=peak_rss_mib(),
                notes=f"{fmt}: {big_rows / big[0]:,.0f} rows/s at {big_rows:,}; {small[0]:.2f} s at {small_rows:,} "
                f"(COPY {small[3]:.3f} s)",
            )
        )
    return results


def run(size: int | None, full: bool) -> list[Result]:
    workers = size or (FULL if full else SMALL)
    with scratch_database(["roster"]) as (url, scratch):
        return asyncio.run(measure(url, scratch, workers))
