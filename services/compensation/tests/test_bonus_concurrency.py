"""C5 paid once under concurrency: two payroll runs of different months calculated at the same moment,
after one allocation, pay each worker's share once between them — the calculation locks the live
allocations of its region until it commits, so the second reads what the first paid.

Calculations that race need their own connections, so this test commits for real, in a county and year no
other test uses (天台县 331023, 2028), and removes what it wrote."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import httpx
import pytest

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.compensation.tests.committed import raw_url

COUNTY, TOWNSHIP = "331023", "331023001000"
COMMUNITY = "331023001001"
YEAR = 2028
MONTHS = ("2028-10", "2028-11")
GRADES = ("excellent", "competent", "competent", "basically_competent")
COEFFICIENTS = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}


async def seed(conn: asyncpg.Connection) -> list[uuid.UUID]:
    """Four workers of one community in post all year, their 2028 grades, the county's 2028 scale."""
    workers = [uuid.uuid4() for _ in GRADES]
    await conn.executemany(
        "INSERT INTO compensation.workers (worker_id, name, community_code, community_path, township_code,"
        " status, hire_date, source_version) VALUES ($1, '社工', $2, $2, $3, 'active', '2027-03-01', 1)",
        [(w, COMMUNITY, TOWNSHIP) for w in workers],
    )
    await conn.executemany(
        "INSERT INTO compensation.employments (worker_id, hire_date) VALUES ($1, '2027-03-01')", [(w,) for w in workers]
    )
    await conn.executemany(
        "INSERT INTO compensation.post_periods (worker_id, start_date, post, grade)"
        " VALUES ($1, '2027-03-01', 'staff', 3)",
        [(w,) for w in workers],
    )
    await conn.executemany(
        "INSERT INTO compensation.assessment_grades (worker_id, year, grade) VALUES ($1, $2, $3)",
        [(w, YEAR, g) for w, g in zip(workers, GRADES, strict=True)],
    )
    await conn.execute(  # the township's cycle closed: its grades all here (C5 shares only then)
        "INSERT INTO compensation.closed_cycles (township_code, year, results) VALUES ($1, $2, $3)",
        TOWNSHIP,
        YEAR,
        len(workers),
    )
    await conn.executemany(
        "INSERT INTO compensation.pay_scale_cells (region_code, year, post, grade, annual_amount)"
        " VALUES ($1, $2, 'staff', $3, $4)",
        [(COUNTY, YEAR, g, 78000 + 3000 * g) for g in range(1, 13)],
    )
    return workers


async def remove(conn: asyncpg.Connection) -> None:
    runs = "SELECT id FROM compensation.payroll_runs WHERE region_code LIKE '331023%'"
    for statement in (
        f"DELETE FROM compensation.bonus_payouts WHERE run_id IN ({runs})",
        f"DELETE FROM compensation.payslips WHERE run_id IN ({runs})",
        f"DELETE FROM compensation.payroll_adjustments WHERE run_id IN ({runs})",
        "DELETE FROM compensation.payroll_runs WHERE region_code LIKE '331023%'",
        "DELETE FROM compensation.bonus_allocations WHERE township_code LIKE '331023%'",
        "DELETE FROM compensation.closed_cycles WHERE township_code LIKE '331023%'",
        "DELETE FROM compensation.policy_profiles WHERE region_code = '331023'",
        "DELETE FROM compensation.pay_scale_cells WHERE region_code = '331023'",
        "DELETE FROM compensation.assessment_grades WHERE worker_id IN"
        " (SELECT worker_id FROM compensation.workers WHERE community_path LIKE '331023%')",
        "DELETE FROM compensation.post_periods WHERE worker_id IN"
        " (SELECT worker_id FROM compensation.workers WHERE community_path LIKE '331023%')",
        "DELETE FROM compensation.employments WHERE worker_id IN"
        " (SELECT worker_id FROM compensation.workers WHERE community_path LIKE '331023%')",
        "DELETE FROM compensation.workers WHERE community_path LIKE '331023%'",
    ):
        await conn.execute(statement)


async def set_coefficients(client: httpx.AsyncClient, county: dict[str, str]) -> None:
    profile = await client.put(
        f"/v1/policy-profiles/{COUNTY}/{YEAR}",
        headers=county,
        json={
            "preset": None,
            "parameters": {"bonus_coefficients": COEFFICIENTS},
            "sources": {"bonus_coefficients": "天台县绩效奖金分配办法"},
        },
    )
    assert profile.status_code == 200, profile.text


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(raw_url(database_url))
    try:
        yield conn
    finally:
        await remove(conn)
        await conn.close()


@pytest.fixture
async def committing(service_app: ServiceFactory) -> InProcessService:
    return await service_app("compensation", rollback=False)


async def test_c5_two_runs_calculated_at_once_pay_each_share_once(
    committing: InProcessService, db: asyncpg.Connection, mint: Mint
) -> None:
    workers = await seed(db)
    client = committing.client
    county, township = bearer(mint(("county_admin", COUNTY))), bearer(mint(("township_officer", TOWNSHIP)))
    await set_coefficients(client, county)
    allocated = await client.post(
        "/v1/bonus-allocations", headers=township, json={"township_code": TOWNSHIP, "year": YEAR, "pool": "40000.00"}
    )
    assert allocated.status_code == 201, allocated.text
    shares = {uuid.UUID(s["worker_id"]): Decimal(s["share"]) for s in allocated.json()["shares"]}
    # 1.2 + 1.0 + 1.0 + 0.8 = 4.0 weights of 12 months each: 40,000 × 1.2 / 4 = 12,000; × 1.0 / 4 = 10,000 …
    assert sorted(shares.values()) == [
        Decimal("8000.00"),
        Decimal("10000.00"),
        Decimal("10000.00"),
        Decimal("12000.00"),
    ]

    runs = []
    for month in MONTHS:
        created = await client.post(
            "/v1/payroll-runs", headers=township, json={"region_code": TOWNSHIP, "month": month}
        )
        assert created.status_code == 201, created.text
        runs.append(created.json()["id"])
    answers = await asyncio.gather(
        *(client.post(f"/v1/payroll-runs/{run}/calculate", headers=township) for run in runs)
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]

    paid = dict(
        await db.fetch(
            "SELECT worker_id, sum(amount) FROM compensation.bonus_payouts WHERE run_id = ANY($1::uuid[])"
            " GROUP BY worker_id",
            runs,
        )
    )
    assert paid == shares  # once each, not twice
    on_payslips = await db.fetch(
        "SELECT run_id, count(*) FILTER (WHERE bonus <> 0), sum(bonus) FROM compensation.payslips"
        " WHERE run_id = ANY($1::uuid[]) GROUP BY run_id",
        runs,
    )
    # One of the two runs pays the four shares, the other none; which one is the race's.
    assert sorted((int(n), total) for _, n, total in on_payslips) == [(0, Decimal("0.00")), (4, Decimal("40000.00"))]
    assert set(paid) == set(workers)


async def test_c5_a_replacement_committed_while_a_calculation_waits_is_the_one_it_pays(
    committing: InProcessService, db: asyncpg.Connection, database_url: str, mint: Mint
) -> None:
    """The calculation waits for the allocation a replacement holds; once the replacement commits, the run pays
    the new allocation's shares (not nothing: the rows it waited for are no longer live)."""
    await seed(db)
    client = committing.client
    county, township = bearer(mint(("county_admin", COUNTY))), bearer(mint(("township_officer", TOWNSHIP)))
    await set_coefficients(client, county)
    first = await client.post(
        "/v1/bonus-allocations", headers=township, json={"township_code": TOWNSHIP, "year": YEAR, "pool": "40000.00"}
    )
    assert first.status_code == 201, first.text
    earlier = first.json()
    doubled = [s | {"share": str(Decimal(s["share"]) * 2)} for s in earlier["shares"]]
    created = await client.post(
        "/v1/payroll-runs", headers=township, json={"region_code": TOWNSHIP, "month": MONTHS[0]}
    )
    run = created.json()["id"]
    # A replacement, as bonus.replace makes it, held open: the earlier row locked, reversed, the new one inserted.
    replacing = await asyncpg.connect(raw_url(database_url))
    transaction = replacing.transaction()
    await transaction.start()
    new_id = uuid.uuid4()
    await replacing.execute(
        "SELECT id FROM compensation.bonus_allocations WHERE id = $1 FOR UPDATE", uuid.UUID(earlier["id"])
    )
    await replacing.execute(
        "UPDATE compensation.bonus_allocations SET reversed_at = now(), reversed_by = 'test', replaced_by = $2"
        " WHERE id = $1",
        uuid.UUID(earlier["id"]),
        new_id,
    )
    await replacing.execute(
        "INSERT INTO compensation.bonus_allocations (id, township_code, year, pool, shares, created_by, replaces,"
        " reason) VALUES ($1, $2, $3, 80000.00, $4::jsonb, 'test', $5, '追加')",
        new_id,
        TOWNSHIP,
        YEAR,
        json.dumps(doubled),
        uuid.UUID(earlier["id"]),
    )
    calculation = asyncio.create_task(client.post(f"/v1/payroll-runs/{run}/calculate", headers=township))
    for _ in range(400):  # the calculation waits on the row the replacement holds
        if await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ):
            break
        await asyncio.sleep(0.025)
    else:
        raise AssertionError("the calculation did not wait for the replacement")
    await transaction.commit()
    await replacing.close()
    answer = await calculation
    assert answer.status_code == 200, answer.text
    paid = await db.fetch(
        "SELECT allocation_id, sum(amount) FROM compensation.bonus_payouts WHERE run_id = $1 GROUP BY 1",
        uuid.UUID(run),
    )
    assert [(a, total) for a, total in paid] == [(new_id, Decimal("80000.00"))]
