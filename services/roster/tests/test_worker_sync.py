"""Pull sync of the workers list (``updated_since`` + cursor, shared/sync.py) and the region-scoped feed.

Real commits (``rollback=False``), each test in a province no other test uses: 河南 410000 for the sync,
湖北 420000 for the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.roster.tests.conftest import id_number


async def make_tree(client: httpx.AsyncClient, admin: dict[str, str], province: str, counties: list[str]) -> None:
    city = province[:3] + "100"
    regions: list[tuple[str, str | None, dict[str, Any]]] = [(province, None, {}), (city, province, {})]
    for county in counties:
        regions += [
            (county, city, {}),
            (f"{county}001000", county, {}),
            (f"{county}001001", f"{county}001000", {"kind": "urban", "households": 2000}),
        ]
    for code, parent, extra in regions:
        created = await client.post(
            "/v1/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
        )
        assert created.status_code == 201, created.text
    for county in counties:
        quota = await client.put(f"/v1/quotas/{county}/2026", headers=admin, json={"headcount": 100})
        assert quota.status_code == 200, quota.text


async def hire(client: httpx.AsyncClient, admin: dict[str, str], serial: int, county: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/workers",
        headers=admin,
        json={
            "id_number": id_number(serial, birth="19880808", region=county),
            "name": f"同步{serial}",
            "community_code": f"{county}001001",
            "hire_date": "2026-01-05",
        },
    )
    assert response.status_code == 201, response.text
    worker: dict[str, Any] = response.json()
    return worker


class Follower:
    """A platform syncing the workers list: keeps ``updated_since``, follows ``next_cursor``."""

    def __init__(self, service: InProcessService, headers: dict[str, str], since: datetime) -> None:
        self.client, self.headers, self.since = service.client, headers, since
        self.cursor: str | None = None
        self.seen: list[tuple[str, int]] = []  # (worker id, version), in the order received
        self.latest: dict[str, dict[str, Any]] = {}

    async def catch_up(self) -> None:
        while True:
            params: dict[str, Any] = {"updated_since": self.since.isoformat(), "limit": 2}
            if self.cursor:
                params["cursor"] = self.cursor
            response = await self.client.get("/v1/workers", headers=self.headers, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            for item in page["items"]:
                self.seen.append((item["id"], item["version"]))
                self.latest[item["id"]] = item
            self.cursor = page["next_cursor"]
            if len(page["items"]) < 2:
                return


async def test_a_follower_paging_with_updated_since_sees_a_late_commit_exactly_once(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    client = roster.client
    admin = bearer(mint(("province_admin", "410000")))
    await make_tree(client, admin, "410000", ["410102"])
    since = datetime.now(UTC) - timedelta(seconds=1)
    first, second, third = [await hire(client, admin, n, "410102") for n in (1, 2, 3)]
    follower = Follower(roster, bearer(mint(("auditor", "410102"), subject="client:county-platform")), since)
    await follower.catch_up()
    assert sorted(follower.seen) == sorted((w["id"], 1) for w in (first, second, third))

    # Two writers: the one that starts first commits last, with the earlier updated_at.
    engine = roster.app.state.engine
    async with engine.connect() as early, engine.connect() as late:
        await early.begin()
        await early.execute(
            text(
                "UPDATE roster.workers SET name = '先写后提交', version = version + 1, updated_at = now()"
                " WHERE id = :id"
            ),
            {"id": first["id"]},
        )
        await late.begin()
        await late.execute(
            text(
                "UPDATE roster.workers SET name = '后写先提交', version = version + 1, updated_at = now()"
                " WHERE id = :id"
            ),
            {"id": second["id"]},
        )
        await late.commit()
        await follower.catch_up()  # reads past the second's change while the first is still open
        assert follower.latest[second["id"]]["name"] == "后写先提交"
        assert follower.latest[first["id"]]["name"] == "同步1"
        fourth = await hire(client, admin, 4, "410102")  # and more commits after it
        await follower.catch_up()
        await early.commit()
    # A leaving is a change like any other: status and leave date, with its updated_at.
    etag = (await client.get(f"/v1/workers/{third['id']}", headers=admin)).headers["etag"]
    left = await client.patch(
        f"/v1/workers/{third['id']}",
        headers={**admin, "If-Match": etag},
        json={"status": "left", "left_date": "2026-06-15"},
    )
    assert left.status_code == 200, left.text
    await follower.catch_up()

    late_change, early_change = follower.latest[first["id"]], follower.latest[second["id"]]
    assert late_change["name"] == "先写后提交"  # the late commit was not skipped ...
    assert late_change["updated_at"] < early_change["updated_at"]  # ... though stamped before one already read
    assert (follower.latest[third["id"]]["status"], follower.latest[third["id"]]["left_date"]) == ("left", "2026-06-15")
    # Every change exactly once, and in the end the follower holds what the roster holds.
    assert len(follower.seen) == len(set(follower.seen))
    assert sorted(follower.seen) == sorted(
        [
            (first["id"], 1),
            (first["id"], 2),
            (second["id"], 1),
            (second["id"], 2),
            (third["id"], 1),
            (third["id"], 2),
            (fourth["id"], 1),
        ]
    )
    for worker_id, item in follower.latest.items():
        current = (await client.get(f"/v1/workers/{worker_id}", headers=admin)).json()
        assert (item["version"], item["name"], item["status"]) == (
            current["version"],
            current["name"],
            current["status"],
        )
    # Nothing new: the same cursor comes back, and a paging cursor is not a sync cursor.
    before = follower.cursor
    await follower.catch_up()
    assert follower.cursor == before
    paging = (await client.get("/v1/workers", headers=admin, params={"region": "410102", "limit": 1})).json()
    mixed = await client.get(
        "/v1/workers",
        headers=follower.headers,
        params={"updated_since": since.isoformat(), "cursor": paging["next_cursor"]},
    )
    assert mixed.status_code == 400


async def test_a_county_platform_follows_its_countys_feed_and_never_sees_another(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    client = roster.client
    admin = bearer(mint(("province_admin", "420000")))
    await make_tree(client, admin, "420000", ["420102", "420103"])
    platform = bearer(mint(("auditor", "420102"), subject="client:jiangan-platform"))
    ours = [await hire(client, admin, n, "420102") for n in (1, 2)]
    theirs = [await hire(client, admin, n, "420103") for n in (3, 4)]
    etag = (await client.get(f"/v1/workers/{ours[0]['id']}", headers=admin)).headers["etag"]
    left = await client.patch(
        f"/v1/workers/{ours[0]['id']}",
        headers={**admin, "If-Match": etag},
        json={"status": "left", "left_date": "2026-06-15"},
    )
    assert left.status_code == 200

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"after": cursor} if cursor else {})
        page = (await client.get("/v1/events", headers=platform, params=params)).json()
        seen.extend(page["items"])
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    assert seen, "the county's own events"
    assert all(e["region"].startswith("420102") for e in seen)
    workers_seen = {e["data"]["worker_id"] for e in seen if e["type"].startswith("worker.")}
    assert workers_seen == {w["id"] for w in ours}
    assert not workers_seen & {w["id"] for w in theirs}
    assert ("worker.left", ours[0]["id"]) in {(e["type"], e["data"].get("worker_id")) for e in seen}  # leavings too
    assert {e["type"] for e in seen} >= {"region.created", "quota.set", "worker.hired", "worker.left"}

    # Another county's feed is refused; a township inside its own is allowed; the province sees both.
    refused = await client.get("/v1/events", headers=platform, params={"region": "420103"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["pointer"] == "/query/region"
    township = (
        await client.get("/v1/events", headers=platform, params={"region": "420102001000", "limit": 1000})
    ).json()
    assert township["items"]
    assert all(e["region"].startswith("420102001") for e in township["items"])
    province = (await client.get("/v1/events", headers=admin, params={"region": "420000", "limit": 1000})).json()
    subjects = {e["subject"] for e in province["items"]}
    assert {f"worker/{w['id']}" for w in ours + theirs} <= subjects
