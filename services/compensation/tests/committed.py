"""Committed test data for the payroll failure tests (the calculation's partitions write on connections
of their own, so a rolled-back test transaction cannot hold the data): workers and scales put in with
plain SQL, removed afterwards, and the helpers that hold a worker-month and find the blocked partition."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

# A payslip of 2028-01 for (run, worker): held in an open transaction, it makes a partition wait.
PAYSLIP_INSERT = (
    "INSERT INTO compensation.payslips (run_id, worker_id, month, base, certificate_allowance, pension, medical,"
    " unemployment, housing_fund, income_tax, employer_pension, employer_medical, employer_unemployment,"
    " employer_injury, employer_housing_fund) VALUES ($1, $2, '2028-01-01', 1,0,0,0,0,0,0,0,0,0,0,0)"
)


def raw_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed(conn: asyncpg.Connection, counties: tuple[str, ...], per_county: int) -> dict[str, list[str]]:
    """Workers (staff grade 3 since 2027-03-01) in one community of each county, and the 2028 scales."""
    made: dict[str, list[str]] = {}
    for county in counties:
        ids = [str(uuid.uuid4()) for _ in range(per_county)]
        community = county + "001001"
        await conn.executemany(
            "INSERT INTO compensation.workers (worker_id, name, community_code, community_path, township_code,"
            " status, hire_date, source_version) VALUES ($1, '社工', $2, $2, $3, 'active', '2027-03-01', 1)",
            [(w, community, county + "001000") for w in ids],
        )
        await conn.executemany(
            "INSERT INTO compensation.employments (worker_id, hire_date) VALUES ($1, '2027-03-01')",
            [(w,) for w in ids],
        )
        await conn.executemany(
            "INSERT INTO compensation.post_periods (worker_id, start_date, post, grade)"
            " VALUES ($1, '2027-03-01', 'staff', 3)",
            [(w,) for w in ids],
        )
        await conn.executemany(
            "INSERT INTO compensation.pay_scale_cells (region_code, year, post, grade, annual_amount)"
            " VALUES ($1, 2028, 'staff', $2, $3) ON CONFLICT DO NOTHING",
            [(county, g, 78000 + 3000 * g) for g in range(1, 13)],
        )
        made[county] = ids
    return made


async def remove(conn: asyncpg.Connection, region: str, counties: tuple[str, ...]) -> None:
    """What a test committed: its runs (of ``region``) and the workers of ``counties``."""
    await conn.execute(
        "DELETE FROM compensation.payslips WHERE run_id IN"
        " (SELECT id FROM compensation.payroll_runs WHERE region_code = $1)",
        region,
    )
    await conn.execute("DELETE FROM compensation.payroll_runs WHERE region_code = $1", region)
    paths = [c + "%" for c in counties]
    mine = "SELECT worker_id FROM compensation.workers WHERE community_path LIKE ANY($1::text[])"
    await conn.execute(f"DELETE FROM compensation.post_periods WHERE worker_id IN ({mine})", paths)
    await conn.execute(f"DELETE FROM compensation.employments WHERE worker_id IN ({mine})", paths)
    await conn.execute("DELETE FROM compensation.workers WHERE community_path LIKE ANY($1::text[])", paths)


async def waiting_insert(conn: asyncpg.Connection) -> int:
    """The pid of a partition's INSERT blocked on the worker-month the test holds (the statement's text is
    longer than pg_stat_activity keeps: match its opening)."""
    for _ in range(400):
        pid = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            " AND query LIKE 'WITH%params AS%' LIMIT 1"
        )
        if pid:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("no partition waited on the held worker-month")
