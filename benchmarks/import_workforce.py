"""Benchmark: a county's workforce in one upload (issue #13), through the roster app in-process, against a
bare COPY of the same file as the floor.

Generates ``--workers`` rows with ``deploy.generate`` (Wenzhou and Taizhou, seed 1), loads the region tree
and quotas into a throw-away PostgreSQL, then times ``POST /v1/imports`` until the job has succeeded, for
the CSV and (unless ``--no-xlsx``) the .xlsx; between the two the roster's worker tables are emptied. The
floor: the same CSV COPYed into a table of text columns, nothing checked.

    .venv/bin/python benchmarks/import_workforce.py [--workers 3000] [--no-xlsx]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy import generate  # noqa: E402
from deploy.local.postgres import scratch_database  # noqa: E402
from services.gateway.keys import SigningKeys, new_key  # noqa: E402
from services.gateway.tokens import issue_access_token  # noqa: E402
from services.roster.app import create_app  # noqa: E402
from services.roster.settings import Settings  # noqa: E402
from services.roster.workforce_format import COLUMNS  # noqa: E402
from shared.auth import Grant, Principal, Role, TokenVerifier  # noqa: E402

EMPTY = "TRUNCATE roster.workers, roster.events, roster.event_commits CASCADE"


async def seed_quotas(url: str, files: dict[str, Path]) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        with files["quotas"].open(encoding="utf-8") as f:
            quotas = [(r["county_code"], int(r["year"]), int(r["headcount"])) for r in csv.DictReader(f)]
        await conn.copy_records_to_table(
            "quotas", schema_name="roster", columns=["county_code", "year", "headcount"], records=quotas
        )
    finally:
        await conn.close()


async def imported(
    client: httpx.AsyncClient, headers: dict[str, str], path: Path, kind: str
) -> tuple[dict[str, Any], float]:
    """Upload ``path`` as ``kind`` and wait for the job to end: the job and the seconds it took."""
    content = await asyncio.to_thread(path.read_bytes)
    started = time.perf_counter()
    response = await client.post(
        "/v1/imports",
        headers=headers,
        files={"file": (path.name, content)},
        params={"region": "330000", "kind": kind},
    )
    assert response.status_code == 202, response.text
    while True:
        job: dict[str, Any] = (await client.get(response.headers["Location"], headers=headers)).json()
        if job["finished_at"]:
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "succeeded", job
    return job, time.perf_counter() - started


def _data_lines(csv_path: Path) -> Path:
    """The CSV without its two header rows, in a file of its own."""
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as data:
        data.write(csv_path.read_bytes().split(b"\r\n", 2)[2])
    return Path(data.name)


async def floor(url: str, csv_path: Path) -> float:
    """A bare COPY of the same CSV (its data lines) into a table of text columns: the least a load costs."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        columns = ", ".join(f"{c.key} text" for c in COLUMNS)
        await conn.execute(f"CREATE TEMP TABLE floor ({columns})")
        data = await asyncio.to_thread(_data_lines, csv_path)
        started = time.perf_counter()
        await conn.copy_to_table("floor", source=data, format="csv")
        elapsed = time.perf_counter() - started
        data.unlink()
        return elapsed
    finally:
        await conn.close()


async def run(url: str, keys_dir: Path, files: dict[str, Path]) -> None:
    keys = SigningKeys(keys_dir)
    token = issue_access_token(keys, Principal("user:bench", "bench", (Grant(Role.province_admin, "330000"),)), 3600)
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False, lifecycle_enabled=False))

    async def jwks() -> dict[str, object]:
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(jwks)
    headers = {"Authorization": f"Bearer {token}"}
    bare = await floor(url, files["workforce_csv"])
    print(f"floor: bare COPY of the CSV into text columns   {bare:7.2f} s")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://roster", timeout=3600) as client,
    ):
        job, elapsed = await imported(client, headers, files["regions"], "regions")
        print(f"regions.csv     {job['rows_loaded']:>9,} regions loaded in {elapsed:7.2f} s")
        await seed_quotas(url, files)
        for kind in ("workforce_csv", "workforce_xlsx"):
            if kind not in files:
                continue
            async with app.state.engine.begin() as conn:
                await conn.execute(text(EMPTY))
            job, elapsed = await imported(client, headers, files[kind], "workforce")
            print(
                f"{files[kind].name:15s} {job['rows_loaded']:>9,} workers loaded in {elapsed:7.2f} s  "
                f"({job['rows_loaded'] / elapsed:,.0f} rows/s, {elapsed / bare:.1f}× the bare COPY)"
            )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3000)
    parser.add_argument("--no-xlsx", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with scratch_database(["roster"]) as (url, scratch):
        keys_dir = scratch / "keys"
        new_key(keys_dir)
        started = time.perf_counter()
        files = generate.write(scratch / "data", 1, args.workers, xlsx=not args.no_xlsx)
        print(f"generated {args.workers:,} workers in {time.perf_counter() - started:.1f} s")
        asyncio.run(run(url, keys_dir, files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
