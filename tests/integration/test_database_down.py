"""PostgreSQL stops and comes back: the services answer 503 problem+json with ``Retry-After`` (never 500)
meanwhile, ``/readyz`` says not ready, and the same processes serve again once it is back (no restart).

A private PostgreSQL cluster of its own, really stopped and started (``deploy/local/postgres.py``).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest_asyncio

from conftest import InProcessService, Mint, ServiceFactory, bearer
from deploy.local.postgres import LocalPostgres, free_port
from shared.migrations import upgrade


@pytest_asyncio.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[LocalPostgres]:
    """A cluster with one database ``shegong``, migrated for the roster and the gateway."""
    pg = LocalPostgres(
        tmp_path / "pg", free_port(), options={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    )
    await asyncio.to_thread(pg.start)
    try:
        conn = await asyncpg.connect(pg.url(driver="postgresql"))
        await conn.execute('CREATE DATABASE "shegong"')
        await conn.close()
        for service in ("roster", "gateway"):
            await asyncio.to_thread(upgrade, service, "head", pg.url("shegong"))
        yield pg
    finally:
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(pg.data_dir, ignore_errors=True)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"].endswith("/service-unavailable")


async def test_services_answer_503_while_postgres_is_down_and_recover_when_it_is_back(
    cluster: LocalPostgres, service_app: ServiceFactory, mint: Mint
) -> None:
    url = cluster.url("shegong")
    roster: InProcessService = await service_app("roster", rollback=False, database_url=url)
    gateway: InProcessService = await service_app("gateway", rollback=False, database_url=url)
    admin = bearer(mint(("province_admin", "110000")))
    region = {"code": "110000", "name": "北京市", "parent_code": None}
    assert (await roster.client.post("/v1/regions", headers=admin, json=region)).status_code == 201
    assert (await roster.client.get("/readyz")).status_code == 200

    await asyncio.to_thread(cluster.stop)
    for _ in range(2):  # the pooled connections are dead, and so is every new one
        assert_unavailable(await roster.client.get("/v1/regions/110000", headers=admin))
    english = await roster.client.get("/v1/regions/110000", headers=admin | {"Accept-Language": "en"})
    assert_unavailable(english)
    assert english.json()["detail"] == "The database cannot be reached right now; try again shortly"
    assert "数据库" in (await roster.client.get("/v1/regions/110000", headers=admin)).json()["detail"]
    # Through the idempotency middleware (it reads its keys from the database before the route runs).
    assert_unavailable(
        await roster.client.post(
            "/v1/regions", headers=admin | {"Idempotency-Key": "down-1"}, json=region | {"code": "120000"}
        )
    )
    not_ready = await roster.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["database"]["status"] == "failing"
    assert (await roster.client.get("/healthz")).status_code == 200  # alive: do not restart it
    metrics = await roster.client.get("/metrics")  # what is needed most now: served, without the database's part
    assert metrics.status_code == 200
    assert 'shegong_metrics_database_readable{service="roster"} 0.0' in metrics.text
    assert 'route="/v1/regions/{code}",service="roster",status="503"' in metrics.text
    signing_in = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "nobody", "password": "x" * 12}
    )
    assert_unavailable(signing_in)
    assert (await gateway.client.get("/readyz")).status_code == 503

    await asyncio.to_thread(cluster.start)
    listed = await roster.client.get("/v1/regions/110000", headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["name"] == "北京市"
    assert (await roster.client.get("/readyz")).status_code == 200
    assert (await gateway.client.get("/readyz")).status_code == 200
    refused = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "nobody", "password": "x" * 12}
    )
    assert refused.status_code in (400, 401), refused.text  # the database answers again: a real refusal
