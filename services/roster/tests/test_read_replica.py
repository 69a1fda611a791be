"""Read-only reports on the read replica (``SHEGONG_ROSTER_DATABASE_READ_URL``, deploy/k8s: CloudNativePG's
``-ro`` service), falling back to the primary; a report's transaction is read-only either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from conftest import Mint, ServiceFactory
from services.roster.tests.conftest import COMMUNITY_A, COUNTY, PROVINCE, TOWNSHIP, Roster
from shared.db import get_read_session
from shared.migrations import upgrade

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"  # the discard port: refused at once
REPORT = "/v1/reports/staffing"


async def tree(r: Roster) -> None:
    await r.region(PROVINCE, "浙江省", None)
    await r.region("330300", "温州市", PROVINCE)
    await r.region(COUNTY, "鹿城区", "330300")
    await r.region(TOWNSHIP, "五马街道", COUNTY)
    await r.region(COMMUNITY_A, "社区A", TOWNSHIP, kind="urban", households=2000)
    quota = await r.client.put(f"/v1/quotas/{COUNTY}/2026", headers=r.province_admin, json={"headcount": 30})
    assert quota.status_code == 200, quota.text


async def test_the_staffing_report_reads_the_replica_when_one_is_set(service_app: ServiceFactory, mint: Mint) -> None:
    # The replica is away: the report (and only the report) answers 503, so it is the replica it reads.
    r = Roster(await service_app("roster", database_read_url=UNREACHABLE, db_connect_timeout_seconds=1.0), mint)
    await tree(r)
    hired = await r.hire(1)  # writes go to the primary
    assert hired["community_code"] == COMMUNITY_A
    renewals = await r.client.get(
        "/v1/reports/renewals", headers=r.county_admin, params={"region": COUNTY, "year": 2026}
    )
    assert renewals.status_code == 200, renewals.text

    report = await r.client.get(REPORT, headers=r.county_admin, params={"region": COUNTY, "date": "2026-03-01"})
    assert report.status_code == 503, report.text
    assert report.headers["content-type"].startswith("application/problem+json")
    assert report.headers["retry-after"] == "5"


async def test_replica_and_primary_give_the_same_report(
    service_app: ServiceFactory, mint: Mint, empty_database: str
) -> None:
    # A database of its own: the data is committed, for the replica to read.
    await asyncio.to_thread(upgrade, "roster", "head", empty_database)
    primary = Roster(await service_app("roster", rollback=False, database_url=empty_database), mint)
    await tree(primary)
    for serial in range(5):
        await primary.hire(serial)
    replica = await service_app("roster", rollback=False, database_url=empty_database, database_read_url=empty_database)
    assert replica.app.state.read_engine is not None

    params = {"region": COUNTY, "date": "2026-03-01"}
    on_primary = await primary.client.get(REPORT, headers=primary.county_admin, params=params)
    on_replica = await replica.client.get(REPORT, headers=primary.county_admin, params=params)
    assert on_primary.status_code == on_replica.status_code == 200, on_replica.text
    assert on_replica.json() == on_primary.json()
    (community,) = on_replica.json()["communities"]
    assert (community["required"], community["actual"]) == (6, 5)  # S1: 2,000 households, 6 required
    assert replica.app.state.read_engine.pool.checkedin() >= 1  # the replica's pool served it


def request_of(app: Any) -> Request:
    return cast(Request, SimpleNamespace(app=app))


@pytest.mark.parametrize("replica", [False, True], ids=["primary", "replica"])
async def test_a_report_session_cannot_write(
    service_app: ServiceFactory, mint: Mint, database_url: str, replica: bool
) -> None:
    settings: dict[str, object] = {"database_read_url": database_url} if replica else {}
    service = await service_app("roster", **settings)
    sessions = cast(AsyncGenerator[AsyncSession, None], get_read_session(request_of(service.app)))
    session = await anext(sessions)
    assert await session.scalar(text("SHOW transaction_read_only")) == "on"
    with pytest.raises(DBAPIError) as refused:
        await session.execute(
            text("INSERT INTO roster.quotas (county_code, year, headcount) VALUES ('330302', 2030, 1)")
        )
    assert getattr(refused.value.orig, "sqlstate", None) == "25006"  # read_only_sql_transaction
    await sessions.aclose()
