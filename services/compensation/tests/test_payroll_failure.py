"""A run is all or nothing: a large run split by county over several connections ends ``failed`` with
none of its lines when one connection is terminated mid-way (``pg_terminate_backend``), and can then be
calculated again; a run left ``calculating`` by a process that died is failed by its expired lease.

These tests commit for real (the partitions write on their own connections), so they use regions and a
year no other test uses: 温岭市 331081 and 临海市 331082 (台州, the taizhou preset), 2028."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.compensation.payroll_runs import reap_expired_runs
from services.compensation.tests.committed import PAYSLIP_INSERT, raw_url, remove, seed, waiting_insert

COUNTIES = ("331081", "331082")
CITY = "331000"
MONTH = "2028-01"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(raw_url(database_url))
    try:
        yield conn
    finally:
        await remove(conn, CITY, COUNTIES)
        await conn.close()


@pytest.fixture
async def large(service_app: ServiceFactory) -> InProcessService:
    """Every run counts as large: split over two connections, one per county."""
    return await service_app(
        "compensation", rollback=False, payroll_parallel_threshold=1, payroll_partitions=2, payroll_lease_seconds=3
    )


async def create_run(service: InProcessService, headers: dict[str, str]) -> str:
    created = await service.client.post("/v1/payroll-runs", headers=headers, json={"region_code": CITY, "month": MONTH})
    assert created.status_code == 201, created.text
    run_id: str = created.json()["id"]
    return run_id


async def run_state(conn: asyncpg.Connection, run_id: str) -> tuple[str, int]:
    status = await conn.fetchval("SELECT status FROM compensation.payroll_runs WHERE id = $1", uuid.UUID(run_id))
    lines = await conn.fetchval("SELECT count(*) FROM compensation.payslips WHERE run_id = $1", uuid.UUID(run_id))
    return str(status), int(lines)


async def test_a_partition_terminated_mid_way_fails_the_whole_run(
    large: InProcessService, db: asyncpg.Connection, database_url: str, mint: Mint
) -> None:
    workers = await seed(db, COUNTIES, 50)
    headers = bearer(mint(("city_admin", CITY)))
    run_id = await create_run(large, headers)
    # Hold one worker-month of 临海市 in an open transaction: that county's partition waits on it, while
    # 温岭市's partition commits its 50 lines.
    holder = await asyncpg.connect(raw_url(database_url))
    blocking = holder.transaction()
    await blocking.start()
    await holder.execute(
        PAYSLIP_INSERT,
        uuid.uuid4(),
        uuid.UUID(workers["331082"][0]),
    )
    calculation = asyncio.create_task(large.client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers))
    pid = await waiting_insert(db)
    assert (await run_state(db, run_id))[0] == "calculating"
    assert await db.fetchval("SELECT pg_terminate_backend($1)", pid)
    response = await calculation
    await blocking.rollback()
    await holder.close()
    assert response.status_code == 503
    assert run_id in response.json()["detail"]
    assert await run_state(db, run_id) == ("failed", 0)  # 温岭市's committed lines are gone too
    listed = await large.client.get(f"/v1/payroll-runs/{run_id}", headers=headers)
    assert listed.json()["status"] == "failed"
    assert listed.json()["failure"]
    again = await large.client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["workers"] == 100
    assert await run_state(db, run_id) == ("calculated", 100)


async def test_a_run_whose_lease_ran_out_is_failed_with_its_lines_removed(
    large: InProcessService, db: asyncpg.Connection, mint: Mint
) -> None:
    """What a dead process leaves: ``calculating``, some lines, a lease in the past."""
    workers = await seed(db, COUNTIES, 3)
    headers = bearer(mint(("city_admin", CITY)))
    run_id = await create_run(large, headers)
    await db.execute(
        "UPDATE compensation.payroll_runs SET status = 'calculating', lease_until = $2 WHERE id = $1",
        uuid.UUID(run_id),
        datetime.now(UTC) - timedelta(seconds=1),
    )
    await db.execute(
        PAYSLIP_INSERT,
        uuid.UUID(run_id),
        uuid.UUID(workers["331081"][0]),
    )
    live = await large.client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers)
    assert live.status_code == 409  # still calculating as far as anyone knows
    reaped = await reap_expired_runs(large.app.state.engine)
    assert uuid.UUID(run_id) in reaped
    assert await run_state(db, run_id) == ("failed", 0)
    again = await large.client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers)
    assert again.json()["workers"] == 6


async def test_a_live_lease_is_not_reaped(large: InProcessService, db: asyncpg.Connection, mint: Mint) -> None:
    await seed(db, COUNTIES, 1)
    run_id = await create_run(large, bearer(mint(("city_admin", CITY))))
    await db.execute(
        "UPDATE compensation.payroll_runs SET status = 'calculating', lease_until = now() + interval '1 minute'"
        " WHERE id = $1",
        uuid.UUID(run_id),
    )
    assert uuid.UUID(run_id) not in await reap_expired_runs(large.app.state.engine)
    assert (await run_state(db, run_id))[0] == "calculating"
