"""The roster's change feed under concurrent writers: a consumer polling while hires commit out of
order receives every event exactly once (ARCHITECTURE rule 4). Real commits, in a province (安徽 340000)
no other test uses."""

from __future__ import annotations

import asyncio

from conftest import Mint, ServiceFactory, bearer
from services.roster.tests.conftest import id_number


async def test_concurrent_hires_reach_a_polling_consumer_once_each(service_app: ServiceFactory, mint: Mint) -> None:
    roster = await service_app("roster", rollback=False)
    admin = bearer(mint(("province_admin", "340000")))
    feed_reader = bearer(mint(("service", "340000"), subject="client:compensation"))
    client = roster.client
    for code, parent, extra in (
        ("340000", None, {}),
        ("340100", "340000", {}),
        ("340102", "340100", {}),
        ("340102001000", "340102", {}),
        *((f"340102001{n:03d}", "340102001000", {"kind": "urban", "households": 2000}) for n in range(1, 9)),
    ):
        created = await client.post(
            "/v1/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
        )
        assert created.status_code == 201, created.text
    assert (await client.put("/v1/quotas/340102/2026", headers=admin, json={"headcount": 100})).status_code == 200
    start = (await client.get("/v1/events", headers=feed_reader, params={"limit": 1000})).json()["next_cursor"]

    async def hire(n: int) -> str:
        response = await client.post(
            "/v1/workers",
            headers=admin,
            json={
                "id_number": id_number(n, birth="19870303", region="340102"),
                "name": f"并发{n}",
                "community_code": f"340102001{n % 8 + 1:03d}",
                "hire_date": "2026-01-05",
            },
        )
        assert response.status_code == 201, response.text
        worker_id: str = response.json()["id"]
        return worker_id

    seen: list[str] = []
    done = asyncio.Event()

    async def consume(cursor: str | None) -> None:
        while True:
            finished = done.is_set()
            params: dict[str, str | int] = {"limit": 7} | ({"after": cursor} if cursor else {})
            page = (await client.get("/v1/events", headers=feed_reader, params=params)).json()
            seen.extend(e["data"]["worker_id"] for e in page["items"] if e["type"] == "worker.hired")
            cursor = page["next_cursor"]
            if finished and not page["items"]:
                return
            await asyncio.sleep(0)

    consumer = asyncio.create_task(consume(start))
    hired = await asyncio.gather(*(hire(n) for n in range(40)))
    done.set()
    await consumer
    assert sorted(seen) == sorted(hired)  # every hire, exactly once
