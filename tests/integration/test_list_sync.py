"""Pull sync (``updated_since`` + cursor in commit order, shared/sync.py) of lists beyond the workers list:
a follower paging with ``updated_since`` sees a row whose transaction started first but committed last,
exactly once, and every change of every row once.

Real commits (``rollback=False``); each service's rows in a province no other test uses (广东 440000),
removed after each test (other tests count whole tables)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from conftest import InProcessService, Mint, ServiceFactory, bearer

PROVINCE = "440000"
COUNTY = {"roster": "440103", "evaluation": "440104", "compensation": "440105"}
KIND = {"roster": "workforce", "evaluation": "training", "compensation": "statistics"}


CLEANUP = (
    "DELETE FROM roster.import_jobs WHERE region_path LIKE '44%'",
    "DELETE FROM evaluation.import_jobs WHERE region_path LIKE '44%'",
    "DELETE FROM compensation.import_jobs WHERE region_path LIKE '44%'",
    "DELETE FROM evaluation.visits WHERE community_code LIKE '44%'",
    "DELETE FROM evaluation.cycles WHERE township_code LIKE '44%'",
    "DELETE FROM evaluation.workers WHERE community_code LIKE '44%'",
    "DELETE FROM compensation.recuperation_claims WHERE worker_id IN"
    " (SELECT worker_id FROM compensation.workers WHERE community_code LIKE '44%')",
    "DELETE FROM compensation.workers WHERE community_code LIKE '44%'",
    "DELETE FROM compensation.payroll_runs WHERE region_code LIKE '44%'",
    "DELETE FROM roster.regions WHERE path LIKE '44%'",
    # The audit is append-only: its guard is lifted for this one statement (a test database).
    "ALTER TABLE roster.personal_data_reads DISABLE TRIGGER personal_data_reads_append_only",
    "DELETE FROM roster.personal_data_reads WHERE region LIKE '44%'",
    "ALTER TABLE roster.personal_data_reads ENABLE TRIGGER personal_data_reads_append_only",
)


@pytest.fixture(autouse=True)
async def _remove_what_the_test_committed(database_url: str) -> AsyncIterator[None]:
    yield
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            for statement in CLEANUP:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


class Follower:
    """A platform following a list: keeps ``updated_since``, follows ``next_cursor``."""

    def __init__(self, service: InProcessService, path: str, headers: dict[str, str], since: datetime) -> None:
        self.client, self.path, self.headers, self.since = service.client, path, headers, since
        self.cursor: str | None = None
        self.seen: list[tuple[str, str]] = []  # (id, status), in the order received
        self.latest: dict[str, dict[str, Any]] = {}

    async def catch_up(self) -> None:
        while True:
            params: dict[str, Any] = {"updated_since": self.since.isoformat(), "limit": 2}
            if self.cursor:
                params["cursor"] = self.cursor
            response = await self.client.get(self.path, headers=self.headers, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            for item in page["items"]:
                self.seen.append((item["id"], item["status"]))
                self.latest[item["id"]] = item
            assert page["next_cursor"] is not None  # always a cursor to follow on from
            self.cursor = page["next_cursor"]
            if len(page["items"]) < 2:
                return


async def new_job(connection: AsyncConnection, service: str, county: str, n: int) -> str:
    job_id = str(uuid.uuid4())
    await connection.execute(
        text(
            f'INSERT INTO "{service}".import_jobs (id, kind, mode, status, region_code, region_path, file_name,'
            " file_sha256, content, created_by) VALUES (:id, :kind, 'all_or_nothing', 'queued', :region, :path,"
            " 'f.csv', :sha, 'x', 'user:sync')"
        ),
        {
            "id": job_id,
            "kind": KIND[service],
            "region": county,
            "path": county + "000000",
            "sha": hashlib.sha256(f"{job_id}{n}".encode()).hexdigest(),
        },
    )
    return job_id


@pytest.mark.parametrize("service", ["roster", "evaluation", "compensation"])
async def test_import_jobs_follow_in_commit_order_and_a_late_commit_is_not_missed(
    service: str, service_app: ServiceFactory, mint: Mint
) -> None:
    app = await service_app(service, rollback=False)
    engine = app.app.state.engine
    county = COUNTY[service]
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as connection:
        first, second = [await new_job(connection, service, county, n) for n in (1, 2)]
    follower = Follower(app, "/v1/imports", bearer(mint(("auditor", county), subject="client:platform")), since)
    await follower.catch_up()
    assert sorted(follower.seen) == sorted([(first, "queued"), (second, "queued")])

    # Two writers: the one that starts first commits last.
    schema = f'"{service}"'
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        await early.execute(
            text(f"UPDATE {schema}.import_jobs SET status = 'validating' WHERE id = :id"),
            {"id": first},
        )
        await late.begin()
        await late.execute(
            text(f"UPDATE {schema}.import_jobs SET status = 'failed' WHERE id = :id"),
            {"id": second},
        )
        await late.commit()
        await follower.catch_up()  # reads past the second's change while the first is still open
        assert follower.latest[second]["status"] == "failed"
        assert follower.latest[first]["status"] == "queued"
        async with engine.begin() as connection:
            third = await new_job(connection, service, county, 3)  # and more commits after it
        await follower.catch_up()
        await early.commit()
    await follower.catch_up()
    assert follower.latest[first]["status"] == "validating"  # the late commit was not skipped
    assert len(follower.seen) == len(set(follower.seen))  # every change exactly once
    assert sorted(follower.seen) == sorted(
        [(first, "queued"), (first, "validating"), (second, "queued"), (second, "failed"), (third, "queued")]
    )
    before = follower.cursor
    await follower.catch_up()
    assert follower.cursor == before  # nothing new: the same cursor
    paging = (await app.client.get("/v1/imports", headers=follower.headers, params={"limit": 1})).json()
    mixed = await app.client.get(
        "/v1/imports",
        headers=follower.headers,
        params={"updated_since": since.isoformat(), "cursor": paging["next_cursor"]},
    )
    assert mixed.status_code == 400  # a paging cursor is not a sync cursor


async def new_visit(connection: AsyncConnection, worker_id: str, community: str, day: int) -> str:
    visit_id = str(uuid.uuid4())
    await connection.execute(
        text(
            "INSERT INTO evaluation.visits (id, worker_id, community_code, building, unit, household, started_at,"
            " ended_at, recorded_by) VALUES (:id, :worker, :community, '1', '1', :door,"
            " :started, :ended, 'user:sync')"
        ),
        {
            "id": visit_id,
            "worker": worker_id,
            "community": community,
            "door": str(day),
            "started": datetime(2026, 3, day, 9, tzinfo=UTC),
            "ended": datetime(2026, 3, day, 10, tzinfo=UTC),
        },
    )
    return visit_id


async def test_a_workers_visits_follow_in_commit_order_and_a_late_upload_is_not_missed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    evaluation = await service_app("evaluation", rollback=False)
    engine = evaluation.app.state.engine
    community = "440106001001"
    worker_id = str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO evaluation.workers (worker_id, name, community_code, community_path, status,"
                " hire_date, source_version, post) VALUES (:id, '走访同步', :c, :c, 'active', '2025-01-01', 1, 'staff')"
            ),
            {"id": worker_id, "c": community},
        )
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as connection:
        first = await new_visit(connection, worker_id, community, 1)
    path = "/v1/visits"
    platform = bearer(mint(("auditor", "440106"), subject="client:platform"))
    seen: list[str] = []
    cursor: list[str] = []

    async def catch_up() -> None:
        while True:
            params: dict[str, Any] = {"worker_id": worker_id, "updated_since": since.isoformat(), "limit": 2} | (
                {"cursor": cursor[-1]} if cursor else {}
            )
            response = await evaluation.client.get(path, headers=platform, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen.extend(item["id"] for item in page["items"])
            cursor.append(page["next_cursor"])
            if len(page["items"]) < 2:
                return

    await catch_up()
    assert seen == [first]
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        slow = await new_visit(early, worker_id, community, 2)  # an upload that commits late
        await late.begin()
        quick = await new_visit(late, worker_id, community, 3)
        await late.commit()
        await catch_up()  # reads past the quick one while the slow one is still open
        assert seen == [first, quick]
        async with engine.begin() as connection:
            after = await new_visit(connection, worker_id, community, 4)
        await catch_up()
        await early.commit()
    await catch_up()
    assert seen == [first, quick, after, slow]  # the late commit comes after the cursor, not behind it
    oldest_first = (await evaluation.client.get(path, headers=platform, params={"worker_id": worker_id})).json()
    assert [v["id"] for v in oldest_first["items"]] == [first, slow, quick, after]  # without: by start


async def new_region(connection: AsyncConnection, code: str, parent: str | None, level: str) -> str:
    await connection.execute(
        text(
            "INSERT INTO roster.regions (code, path, parent_code, level, name)"
            " VALUES (:code, :path, :parent, :level, :code)"
        ),
        {"code": code, "path": code.ljust(12, "0"), "parent": parent, "level": level},
    )
    return code


async def test_a_countys_descendants_follow_in_commit_order_and_a_late_commit_is_not_missed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    engine = roster.app.state.engine
    county = "440111"
    async with engine.begin() as connection:
        if not await connection.scalar(text("SELECT 1 FROM roster.regions WHERE code = '440000'")):
            await new_region(connection, "440000", None, "province")
        if not await connection.scalar(text("SELECT 1 FROM roster.regions WHERE code = '440100'")):
            await new_region(connection, "440100", "440000", "city")
        await new_region(connection, county, "440100", "county")
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as connection:
        first = await new_region(connection, f"{county}001000", county, "township")
    path = f"/v1/regions/{county}/descendants"
    platform = bearer(mint(("auditor", county), subject="client:platform"))
    seen: list[tuple[str, str]] = []
    cursor: list[str] = []

    async def catch_up() -> None:
        while True:
            params: dict[str, Any] = {"updated_since": since.isoformat(), "limit": 2} | (
                {"cursor": cursor[-1]} if cursor else {}
            )
            response = await roster.client.get(path, headers=platform, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen.extend((item["code"], item["name"]) for item in page["items"])
            cursor.append(page["next_cursor"])
            if len(page["items"]) < 2:
                return

    await catch_up()
    assert seen == [(first, first)]
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        await early.execute(text("UPDATE roster.regions SET name = '先改后提交' WHERE code = :c"), {"c": first})
        await late.begin()
        second = await new_region(late, f"{county}002000", county, "township")
        await late.commit()
        await catch_up()  # reads past the second while the first's change is still open
        assert seen == [(first, first), (second, second)]
        async with engine.begin() as connection:
            third = await new_region(connection, f"{county}003000", county, "township")
        await catch_up()
        await early.commit()
    await catch_up()
    # the late change comes after the cursor, not behind it; every change exactly once
    assert seen == [(first, first), (second, second), (third, third), (first, "先改后提交")]
    by_path = (await roster.client.get(path, headers=platform)).json()
    assert [r["code"] for r in by_path["items"]] == [first, second, third]  # without: by path
    # As a file: every change once, and the export ends though a sync page always has a cursor (it hung).
    exported = await asyncio.wait_for(
        roster.client.get(path, headers=platform, params={"updated_since": since.isoformat(), "format": "ndjson"}),
        timeout=30,
    )
    assert [json.loads(line)["code"] for line in exported.text.splitlines()] == [second, third, first]


async def new_claim(connection: AsyncConnection, worker_id: str, day: int) -> str:
    claim_id = str(uuid.uuid4())
    await connection.execute(
        text(
            "INSERT INTO compensation.recuperation_claims (id, worker_id, start_date, days, amount_requested,"
            " amount_allowed, created_by) VALUES (:id, :worker, :start, 1, 300, 300, 'user:sync')"
        ),
        {"id": claim_id, "worker": worker_id, "start": datetime(2026, 4, day, tzinfo=UTC).date()},
    )
    return claim_id


async def test_a_countys_recuperation_claims_follow_in_commit_order_and_a_late_commit_is_not_missed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    compensation = await service_app("compensation", rollback=False)
    engine = compensation.app.state.engine
    county, community = "440107", "440107001001"
    worker_id = str(uuid.uuid4())
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO compensation.workers (worker_id, name, community_code, community_path, status, hire_date,"
                " source_version, township_code) VALUES (:id, '疗休养同步', :c, :c, 'active', '2025-01-01', 1, :t)"
            ),
            {"id": worker_id, "c": community, "t": community[:9] + "000"},
        )
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as connection:
        first = await new_claim(connection, worker_id, 1)
    path = "/v1/recuperation-claims"
    platform = bearer(mint(("auditor", county), subject="client:platform"))
    seen: list[str] = []
    cursor: list[str] = []

    async def catch_up() -> None:
        while True:
            params: dict[str, Any] = {
                "year": 2026,
                "county_code": county,
                "updated_since": since.isoformat(),
                "limit": 2,
            } | ({"cursor": cursor[-1]} if cursor else {})
            response = await compensation.client.get(path, headers=platform, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen.extend(item["id"] for item in page["items"])
            cursor.append(page["next_cursor"])
            if len(page["items"]) < 2:
                return

    await catch_up()
    assert seen == [first]
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        slow = await new_claim(early, worker_id, 2)  # recorded first, committed last
        await late.begin()
        quick = await new_claim(late, worker_id, 3)
        await late.commit()
        await catch_up()
        assert seen == [first, quick]
        async with engine.begin() as connection:
            after = await new_claim(connection, worker_id, 4)
        await catch_up()
        await early.commit()
    await catch_up()
    assert seen == [first, quick, after, slow]  # the late commit is not missed, every claim once
    by_start = (
        await compensation.client.get(path, headers=platform, params={"year": 2026, "county_code": county})
    ).json()
    assert [c["id"] for c in by_start["items"]] == [first, slow, quick, after]


async def new_read(connection: AsyncConnection, region: str, actor: str) -> int:
    read_id: int = await connection.scalar(
        text(
            "INSERT INTO roster.personal_data_reads (actor, worker_ids, region, fields)"
            " VALUES (:actor, ARRAY[gen_random_uuid()], :region, '[\"id_number\"]') RETURNING id"
        ),
        {"actor": actor, "region": region},
    )
    return read_id


async def test_the_audit_of_personal_data_reads_follows_in_commit_order(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    engine = roster.app.state.engine
    region = "440109"
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with engine.begin() as connection:
        first = await new_read(connection, region, "user:a")
    auditor = bearer(mint(("auditor", region), subject="client:audit-platform"))
    seen: list[int] = []
    cursor: list[str] = []

    async def catch_up() -> None:
        while True:
            params: dict[str, Any] = {"updated_since": since.isoformat(), "limit": 2} | (
                {"cursor": cursor[-1]} if cursor else {}
            )
            response = await roster.client.get("/v1/personal-data-reads", headers=auditor, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            seen.extend(item["id"] for item in page["items"])
            cursor.append(page["next_cursor"])
            if len(page["items"]) < 2:
                return

    await catch_up()
    assert seen == [first]
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        slow = await new_read(early, region, "user:slow")  # the lower id, committed last
        await late.begin()
        quick = await new_read(late, region, "user:quick")
        await late.commit()
        await catch_up()
        assert seen == [first, quick]
        await early.commit()
    await catch_up()
    assert seen == [first, quick, slow]
    assert slow < quick  # an id order follower would have skipped it


async def test_payroll_runs_follow_in_commit_order_and_a_late_status_change_is_not_missed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    compensation = await service_app("compensation", rollback=False)
    engine = compensation.app.state.engine
    township = "440110001000"
    since = datetime.now(UTC) - timedelta(seconds=1)
    runs = []
    async with engine.begin() as connection:
        for month in ("2026-01-01", "2026-02-01"):
            runs.append(
                str(
                    await connection.scalar(
                        text(
                            "INSERT INTO compensation.payroll_runs (region_code, month, status, created_by)"
                            " VALUES (:r, :m, 'draft', 'user:sync') RETURNING id"
                        ),
                        {"r": township, "m": datetime.fromisoformat(month).date()},
                    )
                )
            )
    january, february = runs
    platform = bearer(mint(("auditor", "440110"), subject="client:platform"))
    follower = Follower(compensation, "/v1/payroll-runs", platform, since)
    await follower.catch_up()
    assert sorted(follower.seen) == sorted([(january, "draft"), (february, "draft")])
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        await early.execute(
            text("UPDATE compensation.payroll_runs SET status = 'calculated' WHERE id = :id"), {"id": january}
        )
        await late.begin()
        await late.execute(
            text("UPDATE compensation.payroll_runs SET status = 'cancelled' WHERE id = :id"), {"id": february}
        )
        await late.commit()
        await follower.catch_up()
        assert follower.latest[february]["status"] == "cancelled"
        assert follower.latest[january]["status"] == "draft"
        await early.commit()
    await follower.catch_up()
    assert follower.latest[january]["status"] == "calculated"  # the late commit was not skipped
    assert sorted(follower.seen[:2]) == sorted([(january, "draft"), (february, "draft")])
    assert follower.seen[2:] == [(february, "cancelled"), (january, "calculated")]  # in commit order, once each


async def test_assessment_cycles_follow_in_commit_order_and_a_late_close_is_not_missed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    evaluation = await service_app("evaluation", rollback=False)
    engine = evaluation.app.state.engine
    since = datetime.now(UTC) - timedelta(seconds=1)
    cycles = []
    async with engine.begin() as connection:
        for township in ("440112001000", "440112002000"):
            cycles.append(
                str(
                    await connection.scalar(
                        text(
                            "INSERT INTO evaluation.cycles (township_code, year, status, opened_by)"
                            " VALUES (:t, 2026, 'open', 'user:sync') RETURNING id"
                        ),
                        {"t": township},
                    )
                )
            )
    first, second = cycles
    follower = Follower(evaluation, "/v1/cycles", bearer(mint(("auditor", "440112"), subject="client:p")), since)
    await follower.catch_up()
    assert sorted(follower.seen) == sorted([(first, "open"), (second, "open")])
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        await early.execute(text("UPDATE evaluation.cycles SET status = 'closed' WHERE id = :id"), {"id": first})
        await late.begin()
        await late.execute(text("UPDATE evaluation.cycles SET status = 'closed' WHERE id = :id"), {"id": second})
        await late.commit()
        await follower.catch_up()
        assert (follower.latest[first]["status"], follower.latest[second]["status"]) == ("open", "closed")
        await early.commit()
    await follower.catch_up()
    assert follower.latest[first]["status"] == "closed"  # the late commit was not skipped
    assert follower.seen[2:] == [(second, "closed"), (first, "closed")]  # in commit order, once each
