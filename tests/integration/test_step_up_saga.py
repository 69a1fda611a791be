"""C7 step-ups reach the roster all or nothing, whatever fails half-way: the roster going away in the
middle of sending (the first worker's order arrives, the second finds nobody) and an answer lost after
the roster applied an order. The orders stand in compensation's database; after recovery every order is
confirmed and the roster holds each new grade exactly once. Real commits, in 湖南 430000 and 广西 450000,
which no other test uses.

The roster runs in-process; only the wire between the two services is cut (a transport that fails on
cue), which is the one thing that belongs to neither service."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.compensation.projections import apply_grade
from services.compensation.step_ups import dispatch
from services.roster.tests.conftest import id_number
from tests.integration.regions import region_tree
from tests.integration.test_feeds import StaticCredentials, drain, wire


class Wire(httpx.AsyncBaseTransport):
    """The roster's transport, cut on cue: ``down`` refuses every call (the roster is gone); ``lose``
    delivers the next calls but loses their answers (the connection drops after the roster acted)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.deliver_before_down: int | None = None
        self.lose = 0
        self.delivered: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.deliver_before_down is not None and request.method == "POST":
            if self.deliver_before_down == 0:
                raise httpx.ConnectError("roster unreachable", request=request)
            self.deliver_before_down -= 1
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.delivered.append(request.url.path)
            if self.lose:
                self.lose -= 1
                await response.aread()
                raise httpx.ReadError("connection lost after the roster answered", request=request)
        return response


async def setup(
    service_app: ServiceFactory, mint: Mint, province: str
) -> tuple[InProcessService, InProcessService, list[str], Wire]:
    p = province[:2]
    roster = await service_app("roster", rollback=False)
    compensation = await service_app("compensation", rollback=False)
    token = mint(("service", f"{p}0000"), subject="client:compensation")
    await wire(compensation, roster, token)
    cut = Wire(httpx.ASGITransport(app=roster.app))
    await compensation.app.state.http.aclose()
    compensation.app.state.http = httpx.AsyncClient(transport=cut, base_url="http://source")
    compensation.app.state.service_credentials = StaticCredentials(token)
    admin = bearer(mint(("province_admin", f"{p}0000")))
    await region_tree(roster, admin, f"{p}0000")
    assert (
        await roster.client.put(f"/v1/quotas/{p}0102/2023", headers=admin, json={"headcount": 9})
    ).status_code == 200
    workers = []
    for n in range(3):
        hired = await roster.client.post(
            "/v1/workers",
            headers=admin,
            json={
                "id_number": id_number(n, birth="19870707", region=f"{p}0102"),
                "name": f"湘{n}",
                "community_code": f"{p}0102001001",
                "hire_date": "2023-01-01",
            },
        )
        assert hired.status_code == 201, hired.text
        workers.append(hired.json()["id"])
        post = {"post": "staff", "grade": 5, "start_date": "2023-01-01"}
        assert (
            await roster.client.post(f"/v1/workers/{workers[-1]}/posts", headers=admin, json=post)
        ).status_code == 201
    assert await drain(compensation, at_least=6) >= 6
    async with compensation.app.state.sessionmaker() as session:
        for worker in workers:
            for year in (2023, 2024, 2025):
                grade = {"worker_id": worker, "year": year, "grade": "competent"}
                await apply_grade(session, {"type": "assessment.finalized", "data": grade})
        await session.commit()
    return roster, compensation, workers, cut


async def grades(roster: InProcessService, admin: dict[str, str], worker: str) -> list[tuple[int, str]]:
    posts: list[dict[str, Any]] = (await roster.client.get(f"/v1/workers/{worker}/posts", headers=admin)).json()
    return [(p["grade"], p["start_date"]) for p in posts]


async def test_the_roster_going_away_half_way_leaves_orders_that_complete_after_recovery(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster, compensation, workers, cut = await setup(service_app, mint, "430000")
    admin = bearer(mint(("province_admin", "430000")))
    county = bearer(mint(("county_admin", "430102")))
    cut.deliver_before_down = 1  # the first order arrives, then the roster is gone
    applied = await compensation.client.post(
        "/v1/step-ups", headers=county, json={"region_code": "430102", "year": 2026, "apply": True}
    )
    assert applied.status_code == 200, applied.text
    statuses = sorted(r["order_status"] for r in applied.json())
    assert statuses == ["confirmed", "pending", "pending"]  # recorded for everyone, sent for one
    orders = (
        await compensation.client.get(
            "/v1/step-up-orders", headers=county, params={"region_code": "430102", "year": 2026}
        )
    ).json()
    assert sorted(o["status"] for o in orders) == ["confirmed", "pending", "pending"]
    assert all("unreachable" in o["last_error"] for o in orders if o["status"] == "pending")
    # the roster is back: the dispatcher (every replica runs it in the background) sends what is left
    cut.deliver_before_down = None
    state = compensation.app.state
    assert await dispatch(state.engine, state.http, state.service_credentials, state.settings.roster_url) == 2
    for worker in workers:
        assert await grades(roster, admin, worker) == [(5, "2023-01-01"), (6, "2026-01-01")]
    again = await compensation.client.post(
        "/v1/step-ups", headers=county, json={"region_code": "430102", "year": 2026, "apply": True}
    )
    assert again.status_code == 200
    for worker in workers:  # applying again orders nothing new: one step-up per worker and year
        assert await grades(roster, admin, worker) == [(5, "2023-01-01"), (6, "2026-01-01")]


async def test_an_answer_lost_after_the_roster_acted_is_not_applied_twice(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster, compensation, workers, cut = await setup(service_app, mint, "450000")
    admin = bearer(mint(("province_admin", "450000")))
    county = bearer(mint(("county_admin", "450102")))
    cut.lose = 1  # the roster applies the first order, its answer never arrives
    applied = await compensation.client.post(
        "/v1/step-ups", headers=county, json={"region_code": "450102", "year": 2026, "apply": True}
    )
    assert applied.status_code == 200, applied.text
    assert sorted(r["order_status"] for r in applied.json()) == ["confirmed", "confirmed", "pending"]
    state = compensation.app.state
    assert await dispatch(state.engine, state.http, state.service_credentials, state.settings.roster_url) == 1
    posts = [p for p in cut.delivered if p.endswith("/posts")]
    assert len(posts) == 4  # the lost one was sent twice, under the same Idempotency-Key
    for worker in workers:
        assert await grades(roster, admin, worker) == [(5, "2023-01-01"), (6, "2026-01-01")]
