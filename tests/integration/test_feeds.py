"""Services meeting through their feeds, in-process: roster → evaluation (workers), evaluation → roster
(grades, H8 on the renewal worklist). Real commits, in a province (福建 350000) no other test uses."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from sqlalchemy import text

from conftest import InProcessService, Mint, PostgresServer, ServiceFactory, bearer
from services.evaluation.tests.conftest import NANHU_SCHEME
from services.roster.tests.conftest import id_number
from tests.integration.regions import region_tree


class StaticCredentials:
    """The service's own token, minted here instead of asked of a gateway (there is none in-process)."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def wire(consumer: InProcessService, source: InProcessService, token: str) -> None:
    """Point the consumer's feeds at the source app over an in-process transport."""
    await consumer.app.state.http.aclose()
    consumer.app.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=source.app), base_url="http://source")
    consumer.app.state.service_credentials = StaticCredentials(token)


async def drain(service: InProcessService, at_least: int = 1, timeout: float = 15.0) -> int:
    """Poll the service's feeds until ``at_least`` events were applied and a poll finds nothing new.

    An empty page does not mean there is nothing more to come: a transaction that wrote events may not
    have committed yet (its events then come after the cursor, never behind it).
    """
    total = 0
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        applied = 0
        for feed in service.app.state.feeds:
            applied += await feed.poll_once()
        total += applied
        if applied == 0 and (total >= at_least or asyncio.get_running_loop().time() > deadline):
            return total
        if applied == 0:
            await asyncio.sleep(0.05)


async def test_two_incompetent_years_reach_the_rosters_renewal_worklist(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    evaluation = await service_app("evaluation", rollback=False)
    await wire(evaluation, roster, mint(("service", "350000"), subject="client:evaluation"))
    await wire(roster, evaluation, mint(("service", "350000"), subject="client:roster"))
    admin = bearer(mint(("province_admin", "350000")))
    await region_tree(roster, admin, "350000")
    for year in (2024, 2025, 2026):
        assert (
            await roster.client.put(f"/v1/quotas/350102/{year}", headers=admin, json={"headcount": 10})
        ).status_code == 200
    workers = []
    for n in range(3):
        hired = await roster.client.post(
            "/v1/workers",
            headers=admin,
            json={
                "id_number": id_number(n, birth="19880808", region="350102"),
                "name": f"闽{n}",
                "community_code": "350102001001",
                "hire_date": "2024-01-05",
                "certificate_level": "assistant",
                "certificate_date": "2024-03-01",
            },
        )
        assert hired.status_code == 201, hired.text
        workers.append(hired.json()["id"])
        for start in ("2024-01-05", "2025-01-05"):
            signed = await roster.client.post(
                f"/v1/workers/{workers[-1]}/contracts", headers=admin, json={"start_date": start}
            )
            assert signed.status_code == 201, signed.text

    assert await drain(evaluation, at_least=3) >= 3  # the hires arrive in the evaluation service's projection

    county = bearer(mint(("county_admin", "350102")))
    township = bearer(mint(("township_officer", "350102001000")))
    for year in (2024, 2025):
        assert (
            await evaluation.client.put(f"/v1/schemes/350102/{year}", headers=county, json=NANHU_SCHEME)
        ).status_code == 200
        cycle = (
            await evaluation.client.post(
                "/v1/cycles", headers=township, json={"township_code": "350102001000", "year": year}
            )
        ).json()["id"]
        for worker, score in zip(workers, ("95", "80", "50"), strict=True):
            entries = [
                {"worker_id": worker, "rater_group": "township_cadres", "score": score},
                {"worker_id": worker, "rater_group": "peers", "score": score},
                {
                    "worker_id": worker,
                    "rater_group": "residents",
                    "score": score,
                    "panel_size": 55,
                    "ordinary_share": "0.75",
                },
            ]
            assert (
                await evaluation.client.post(f"/v1/cycles/{cycle}/scores", headers=township, json={"entries": entries})
            ).status_code == 200
        assert (await evaluation.client.post(f"/v1/cycles/{cycle}/close", headers=township)).status_code == 200

    assert await drain(roster, at_least=6) >= 6  # two years of grades for three workers
    worklist = (
        await roster.client.get("/v1/reports/renewals", headers=admin, params={"region": "350102", "year": 2026})
    ).json()
    bars = {row["worker_id"]: [b["rule"] for b in row["bars"]] for row in worklist}
    assert bars == {workers[0]: [], workers[1]: [], workers[2]: ["H8"]}
    refused = await roster.client.post(
        f"/v1/workers/{workers[2]}/contracts", headers=admin, json={"start_date": "2026-01-05"}
    )
    assert refused.json()["rule"] == "H8"
    async with roster.app.state.sessionmaker() as session:  # the cursor was kept with the pages applied
        cursor = await session.scalar(text("SELECT cursor FROM roster.feed_cursors WHERE source = 'evaluation'"))
    assert cursor


async def test_step_up_goes_back_to_the_roster_over_http_and_returns_through_its_feed(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    compensation = await service_app("compensation", rollback=False)
    await wire(compensation, roster, mint(("service", "360000"), subject="client:compensation"))
    admin = bearer(mint(("province_admin", "360000")))  # 江西 360000: no other test uses it
    await region_tree(roster, admin, "360000")
    assert (await roster.client.put("/v1/quotas/360102/2023", headers=admin, json={"headcount": 5})).status_code == 200
    hired = await roster.client.post(
        "/v1/workers",
        headers=admin,
        json={
            "id_number": id_number(1, birth="19860606", region="360102"),
            "name": "赣1",
            "community_code": "360102001001",
            "hire_date": "2023-01-01",
        },
    )
    worker = hired.json()["id"]
    assert (
        await roster.client.post(
            f"/v1/workers/{worker}/posts", headers=admin, json={"post": "staff", "grade": 5, "start_date": "2023-01-01"}
        )
    ).status_code == 201
    assert await drain(compensation, at_least=2) >= 2
    grades = [
        {"type": "assessment.finalized", "data": {"worker_id": worker, "year": y, "grade": "competent"}}
        for y in (2023, 2024, 2025)
    ]
    from services.compensation.projections import apply_grade

    async with compensation.app.state.sessionmaker() as session:
        for event in grades:
            await apply_grade(session, event)
        await session.commit()
    county = bearer(mint(("county_admin", "360102")))
    applied = await compensation.client.post(
        "/v1/step-ups", headers=county, json={"region_code": "360102", "year": 2026, "apply": True}
    )
    assert applied.status_code == 200, applied.text
    assert [(r["worker_id"], r["new_grade"], r["applied"]) for r in applied.json()] == [(worker, 6, True)]
    posts = (await roster.client.get(f"/v1/workers/{worker}/posts", headers=admin)).json()
    assert [(p["grade"], p["start_date"], p["end_date"]) for p in posts] == [
        (5, "2023-01-01", "2026-01-01"),
        (6, "2026-01-01", None),
    ]
    assert await drain(compensation, at_least=1) >= 1  # the roster's post.assigned comes back
    again = await compensation.client.post("/v1/step-ups", headers=county, json={"region_code": "360102", "year": 2026})
    assert [r["grade"] for r in again.json()] == [5]  # as of 31 December it was grade 5; from 1 January it is 6


async def test_feeds_flow_while_transactions_stay_open_in_this_and_another_database(
    service_app: ServiceFactory, mint: Mint, postgres_server: PostgresServer, database_url: str
) -> None:
    """An analyst's session that wrote something and stays open (here, in the suite's own database and in
    another database of the same server): hires in the roster still reach evaluation within seconds."""
    roster = await service_app("roster", rollback=False)
    evaluation = await service_app("evaluation", rollback=False)
    await wire(evaluation, roster, mint(("service", "370000"), subject="client:evaluation"))
    admin = bearer(mint(("province_admin", "370000")))  # 山东 370000: no other test uses it
    other_db = f"shegong_report_{uuid.uuid4().hex[:8]}"
    await postgres_server.create(other_db)
    analysts = [
        await asyncpg.connect(postgres_server.base_url + "/" + database_url.rsplit("/", 1)[1]),
        await asyncpg.connect(postgres_server.base_url + "/" + other_db),
    ]
    try:
        for session in analysts:
            await session.execute("BEGIN")
            await session.execute("CREATE TEMP TABLE report (n int)")  # a write: the transaction has an id
        await region_tree(roster, admin, "370000")
        assert (
            await roster.client.put("/v1/quotas/370102/2025", headers=admin, json={"headcount": 5})
        ).status_code == 200
        started = asyncio.get_running_loop().time()
        for n in range(2):
            hired = await roster.client.post(
                "/v1/workers",
                headers=admin,
                json={
                    "id_number": id_number(n, birth="19900101", region="370102"),
                    "name": f"鲁{n}",
                    "community_code": "370102001001",
                    "hire_date": "2025-03-01",
                },
            )
            assert hired.status_code == 201, hired.text
        assert await drain(evaluation, at_least=2, timeout=5.0) >= 2
        assert asyncio.get_running_loop().time() - started < 5.0
        for session in analysts:  # still open all along
            assert await session.fetchval("SELECT count(*) FROM report") == 0
    finally:
        for session in analysts:
            await session.close()
        await postgres_server.drop(other_db)
