"""A run whose calculating process dies is noticed and failed within a minute, never stuck: a second
compensation process (every run split over two connections, a 2-second lease) is killed with SIGKILL in
the middle of a partitioned calculation; the suite's own compensation process, as another replica
would, finds the expired lease, fails the run with none of its lines, and the run is calculated again
through the gateway."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from deploy.local.postgres import free_port
from services.compensation.tests.committed import PAYSLIP_INSERT, raw_url, remove, seed, waiting_insert
from tests.e2e.conftest import Suite, signed_in, wait_until_healthy

# 柯城区, 衢江区 of 衢州: no other end-to-end test puts anyone in this city, so the run is exactly these workers
# (a city that another test fills, with workers on no scale of 2028, fails its run before any partition waits).
COUNTIES = ("330802", "330803")
CITY = "330800"


def start_compensation(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "shared.serve", "compensation"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def test_a_killed_calculation_is_failed_by_another_replica_and_calculated_again(
    suite: Suite, database_url: str, tmp_path: Path
) -> None:
    db = await asyncpg.connect(raw_url(database_url))
    port = free_port()
    env = suite.env | {
        "SHEGONG_COMPENSATION_PORT": str(port),
        "SHEGONG_COMPENSATION_FEEDS_ENABLED": "false",
        "SHEGONG_COMPENSATION_PAYROLL_PARALLEL_THRESHOLD": "1",
        "SHEGONG_COMPENSATION_PAYROLL_LEASE_SECONDS": "2",
    }
    log = tmp_path / "doomed.log"
    doomed = start_compensation(env, log)
    headers = signed_in(suite, "city_admin", CITY)  # a real account: the gateway checks it is current
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/healthz", {"compensation": doomed}, {"compensation": log})
        workers = await seed(db, COUNTIES, 20)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as direct:
            created = await direct.post(
                "/v1/payroll-runs", headers=headers, json={"region_code": CITY, "month": "2028-01"}
            )
            assert created.status_code == 201, created.text
            run_id = created.json()["id"]
            holder = await asyncpg.connect(raw_url(database_url))
            calculation: asyncio.Task[httpx.Response] | None = None
            try:
                blocking = holder.transaction()
                await blocking.start()
                await holder.execute(PAYSLIP_INSERT, uuid.uuid4(), uuid.UUID(workers[COUNTIES[1]][0]))
                calculation = asyncio.create_task(direct.post(f"/v1/payroll-runs/{run_id}/calculate", headers=headers))
                await waiting_insert(db)  # one county's lines are committed, the other's partition waits
                status = await db.fetchval(
                    "SELECT status FROM compensation.payroll_runs WHERE id = $1", uuid.UUID(run_id)
                )
                assert status == "calculating"
                os.kill(doomed.pid, signal.SIGKILL)
                doomed.wait(timeout=10)
                await blocking.rollback()
            finally:
                await holder.close()
                if calculation is not None:
                    calculation.cancel()
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=suite.gateway, timeout=30) as gateway:
            path = f"/api/v1/compensation/payroll-runs/{run_id}"
            while (await gateway.get(path, headers=headers)).json()["status"] == "calculating":
                assert time.monotonic() - started < 60, "the dead calculation was not noticed within a minute"
                await asyncio.sleep(0.5)
            failed = (await gateway.get(path, headers=headers)).json()
            assert failed["status"] == "failed"
            assert "lease" in failed["failure"]
            lines = await db.fetchval("SELECT count(*) FROM compensation.payslips WHERE run_id = $1", uuid.UUID(run_id))
            assert lines == 0
            again = await gateway.post(path + "/calculate", headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["workers"] == 40
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
        await remove(db, CITY, COUNTIES)
        await db.close()
