"""The worker lifecycle through the API: status as of a date (H4 probation, H6 loans), the scheduled
transitions in the feed, leaving (the leave date inclusive) and re-hiring on the same record, K3, P4
duties and H9 re-contracting."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from conftest import Mint, ServiceFactory, bearer
from services.roster.lifecycle import publish_due_transitions
from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, COUNTY, Roster, id_number
from shared.business_time import business_today


async def status(roster: Roster, worker_id: str, as_of: str) -> dict[str, Any]:
    response = await roster.client.get(f"/v1/workers/{worker_id}", headers=roster.county_admin, params={"as_of": as_of})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(roster: Roster, worker_id: str, as_of: str, status_: str) -> bool:
    page = (
        await roster.client.get(
            "/v1/workers",
            headers=roster.county_admin,
            params={"region": COUNTY, "status": status_, "as_of": as_of, "limit": 500},
        )
    ).json()
    return worker_id in {w["id"] for w in page["items"]}


async def worker_events(roster: Roster, worker_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with roster.service.app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT type, data FROM roster.events WHERE subject = :s ORDER BY id"),
                {"s": f"worker/{worker_id}"},
            )
        ).all()
    return [(r.type, r.data) for r in rows]


async def test_h4_probation_ends_by_itself_the_day_after_the_probation_end(roster: Roster) -> None:
    worker = await roster.hire(1, hire_date="2026-01-05")
    assert worker["probation_end"] == "2026-07-05"  # hire date + probation_months (6), inclusive
    for day, expected in (("2026-01-04", "pending"), ("2026-01-05", "probation"), ("2026-07-05", "probation")):
        body = await status(roster, worker["id"], day)
        assert (body["status"], body["status_as_of"]) == (expected, day)
        assert await listed(roster, worker["id"], day, expected)
    assert (await status(roster, worker["id"], "2026-07-06"))["status"] == "active"
    assert await listed(roster, worker["id"], "2026-07-06", "active")
    assert not await listed(roster, worker["id"], "2026-07-06", "probation")


async def test_h4_probation_months_is_the_countys_parameter(roster: Roster) -> None:
    put = await roster.client.put(
        f"/v1/staffing-policies/{COUNTY}/2026",
        headers=roster.county_admin,
        json={"parameters": {"probation_months": 3}, "source": "鹿城区某文件"},
    )
    assert put.status_code == 200, put.text
    worker = await roster.hire(2, hire_date="2026-01-05")
    assert worker["probation_end"] == "2026-04-05"
    assert (await status(roster, worker["id"], "2026-04-06"))["status"] == "active"
    contract = await roster.client.post(
        f"/v1/workers/{worker['id']}/contracts", headers=roster.county_admin, json={"start_date": "2026-01-05"}
    )
    assert contract.json()["probation_end"] == "2026-04-05"  # one reading: the contract shows the same end


async def test_the_feed_follows_the_calendar_once_per_transition(roster: Roster) -> None:
    today = business_today()
    worker = await roster.hire(3, hire_date=today.isoformat())
    assert worker["status"] == "probation"
    maker = roster.service.app.state.sessionmaker
    probation_over = today + relativedelta(months=6) + timedelta(days=1)
    assert await publish_due_transitions(maker, probation_over - timedelta(days=1)) >= 0
    assert [t for t, _ in await worker_events(roster, worker["id"])] == ["worker.hired"]
    await publish_due_transitions(maker, probation_over)
    await publish_due_transitions(maker, probation_over)  # again: nothing more to publish
    (hired, data), (updated, changed) = await worker_events(roster, worker["id"])
    assert (hired, data["status"], data["version"]) == ("worker.hired", "probation", 1)
    assert (updated, changed["status"], changed["version"], changed["changed"]) == (
        "worker.updated",
        "active",
        2,
        ["status"],
    )
    assert changed["employments"] == [{"hire_date": today.isoformat(), "left_date": None}]


async def test_h6_on_loan_for_the_loan_period_then_back(roster: Roster) -> None:
    worker = await roster.hire(4, hire_date="2025-01-05")
    loan = await roster.client.post(
        f"/v1/workers/{worker['id']}/secondments",
        headers=roster.county_admin,
        json={
            "kind": "loan",
            "host": "区民政局",
            "start_date": "2027-01-01",
            "end_date": "2027-07-01",
            "approval": "鹿组〔2026〕9号",
        },
    )
    assert loan.status_code == 201, loan.text
    for day, expected in (
        ("2026-12-31", "active"),
        ("2027-01-01", "on_loan"),
        ("2027-06-30", "on_loan"),
        ("2027-07-01", "active"),  # the end is exclusive: the first day back
    ):
        assert (await status(roster, worker["id"], day))["status"] == expected
        assert await listed(roster, worker["id"], day, expected)
    maker = roster.service.app.state.sessionmaker
    await publish_due_transitions(maker, date(2027, 1, 1))
    await publish_due_transitions(maker, date(2027, 7, 1))
    published = [(t, d["status"]) for t, d in await worker_events(roster, worker["id"]) if t == "worker.updated"]
    assert published == [("worker.updated", "on_loan"), ("worker.updated", "active")]


async def test_a_practice_posting_that_has_begun_shows_and_is_published_at_once(roster: Roster) -> None:
    worker = await roster.hire(5, hire_date="2025-01-05")
    today = business_today()
    posted = await roster.client.post(
        f"/v1/workers/{worker['id']}/secondments",
        headers=roster.county_admin,
        json={
            "kind": "practice",
            "host": "五马街道",
            "start_date": today.isoformat(),
            "end_date": (today + relativedelta(months=3)).isoformat(),
        },
    )
    assert posted.status_code == 201
    now = (await roster.client.get(f"/v1/workers/{worker['id']}", headers=roster.county_admin)).json()
    assert now["status"] == "on_loan"
    assert [(t, d.get("status")) for t, d in await worker_events(roster, worker["id"])][-1] == (
        "worker.updated",
        "on_loan",
    )


async def test_leaving_ends_posts_and_contracts_the_next_day_and_rehire_keeps_the_record(roster: Roster) -> None:
    worker = await roster.hire(6, hire_date="2024-01-05", certificate_level="assistant", certificate_date="2024-05-01")
    wid = worker["id"]
    assert (await roster.assign(wid, "staff", 3, start="2024-01-05")).status_code == 201
    contracts = f"/v1/workers/{wid}/contracts"
    for start in ("2024-01-05", "2025-01-05"):
        signed = await roster.client.post(contracts, headers=roster.county_admin, json={"start_date": start})
        assert signed.status_code == 201
    etag = (await roster.client.get(f"/v1/workers/{wid}", headers=roster.county_admin)).headers["etag"]
    left = await roster.client.patch(
        f"/v1/workers/{wid}",
        headers={**roster.county_admin, "If-Match": etag},
        json={"status": "left", "left_date": "2025-03-31"},
    )
    assert left.status_code == 200, left.text
    posts = (await roster.client.get(f"/v1/workers/{wid}/posts", headers=roster.county_admin)).json()
    assert posts[-1]["end_date"] == "2025-04-01"
    signed_contracts = (await roster.client.get(contracts, headers=roster.county_admin)).json()
    assert [c["end_date"] for c in signed_contracts] == ["2025-01-05", "2025-04-01"]
    last_day = await status(roster, wid, "2025-03-31")
    assert (last_day["status"], last_day["current_post"]["post"]) == ("active", "staff")  # worked and paid
    gone = await status(roster, wid, "2025-04-01")
    assert (gone["status"], gone["current_post"]) == ("left", None)
    for day, counted in (("2025-03-31", 1), ("2025-04-01", 0)):
        report = (
            await roster.client.get(
                "/v1/reports/staffing", headers=roster.county_admin, params={"region": COMMUNITY_A, "date": day}
            )
        ).json()
        assert report["communities"][0]["actual"] == counted

    too_soon = await roster.client.post(
        "/v1/workers",
        headers=roster.county_admin,
        json={"id_number": id_number(6), "name": "社工6", "community_code": COMMUNITY_B, "hire_date": "2025-03-31"},
    )
    assert too_soon.status_code == 409
    again = await roster.client.post(
        "/v1/workers",
        headers=roster.county_admin,
        json={"id_number": id_number(6), "name": "社工6", "community_code": COMMUNITY_B, "hire_date": "2026-02-01"},
    )
    assert again.status_code == 201, again.text
    rehired = again.json()
    assert (rehired["id"], rehired["community_code"], rehired["hire_date"]) == (wid, COMMUNITY_B, "2026-02-01")
    assert (rehired["left_date"], rehired["probation_end"]) == (None, "2026-08-01")
    assert [(e["hire_date"], e["left_date"]) for e in rehired["employments"]] == [
        ("2024-01-05", "2025-03-31"),
        ("2026-02-01", None),
    ]
    assert (await status(roster, wid, "2026-01-31"))["status"] == "left"
    assert (await status(roster, wid, "2026-02-01"))["status"] == "probation"
    first_again = await roster.client.post(contracts, headers=roster.county_admin, json={"start_date": "2026-02-01"})
    assert (first_again.status_code, first_again.json()["probation_end"]) == (201, "2026-08-01")

    events = await worker_events(roster, wid)
    kinds = [t for t, _ in events if t.startswith("worker.")]
    assert kinds == ["worker.hired", "worker.left", "worker.hired"]
    left_data = next(d for t, d in events if t == "worker.left")
    assert left_data["employments"] == [{"hire_date": "2024-01-05", "left_date": "2025-03-31"}]
    rehire_data = [d for t, d in events if t == "worker.hired"][-1]
    assert rehire_data["worker_id"] == wid
    assert rehire_data["employments"] == [
        {"hire_date": "2024-01-05", "left_date": "2025-03-31"},
        {"hire_date": "2026-02-01", "left_date": None},
    ]
    assert (rehire_data["hire_date"], rehire_data["left_date"], rehire_data["version"]) == ("2026-02-01", None, 3)


async def test_status_is_not_set_by_hand(roster: Roster) -> None:
    worker = await roster.hire(7)
    etag = (await roster.client.get(f"/v1/workers/{worker['id']}", headers=roster.county_admin)).headers["etag"]
    refused = await roster.client.patch(
        f"/v1/workers/{worker['id']}", headers={**roster.county_admin, "If-Match": etag}, json={"status": "active"}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/body/status"


async def test_k3_no_transfer_within_three_years_of_taking_a_career_staff_post(roster: Roster) -> None:
    worker = await roster.hire(8, hire_date="2019-01-01")
    url = f"/v1/workers/{worker['id']}"
    etag = (await roster.client.get(url, headers=roster.county_admin)).headers["etag"]
    recorded = await roster.client.patch(
        url,
        headers={**roster.county_admin, "If-Match": etag},
        json={"career_staff_date": "2025-01-01", "career_staff_document": "鹿人社〔2024〕12号"},
    )
    assert recorded.status_code == 200
    assert recorded.json()["career_staff_date"] == "2025-01-01"
    refused = await roster.client.post(
        f"{url}/transfers",
        headers={**roster.county_admin, "Accept-Language": "en"},
        json={"to_community": COMMUNITY_B, "effective_date": "2027-12-31"},
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["rule"], problem["allowed_from"]) == ("K3", "2028-01-01")
    assert "2028-01-01" in problem["detail"]
    moved = await roster.client.post(
        f"{url}/transfers",
        headers=roster.county_admin,
        json={"to_community": COMMUNITY_B, "effective_date": "2028-01-01"},
    )
    assert moved.status_code == 201, moved.text


async def test_p4_duties_recorded_and_shown_with_the_post(roster: Roster) -> None:
    enums = (await roster.client.get("/v1/meta/enums")).json()["enums"]
    assert enums["duty"] == {
        "party_affairs": "党建",
        "social_affairs": "社会事务",
        "culture_education_sport": "文教体育",
        "environment_sanitation": "环境卫生",
        "comprehensive_governance": "综合治理",
        "labour_social_security": "劳动就业和社会保障",
    }
    worker = await roster.hire(9, hire_date="2025-01-05")
    assigned = await roster.assign(
        worker["id"], "staff", 3, start="2025-01-05", duties=["party_affairs", "social_affairs", "party_affairs"]
    )
    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["duties"] == ["party_affairs", "social_affairs"]
    shown = (await roster.client.get(f"/v1/workers/{worker['id']}", headers=roster.county_admin)).json()
    assert shown["current_post"]["duties"] == ["party_affairs", "social_affairs"]  # generalist: several areas
    bad = await roster.assign(worker["id"], "staff", 3, start="2026-01-05", duties=["grid_work"])
    assert bad.status_code == 422


async def test_h9_recontracting_a_worker_recruited_before_the_rules(roster: Roster) -> None:
    worker = await roster.hire(10, hire_date="2019-03-01", certificate_level="assistant", certificate_date="2020-06-01")
    url = f"/v1/workers/{worker['id']}/recontracts"
    body = {"start_date": "2026-01-01", "prior_arrangement": "居委会自聘（2019）"}
    signed = await roster.client.post(url, headers=roster.county_admin, json=body)
    assert signed.status_code == 201, signed.text
    contract = signed.json()
    assert (contract["h9_recontract"], contract["probation_end"]) == (True, None)
    assert (contract["township_code"], contract["end_date"]) == ("330302001000", "2027-01-01")  # H3: one year
    again = await roster.client.post(url, headers=roster.county_admin, json=body)
    assert (again.status_code, again.json()["rule"]) == (409, "H9")
    (kind, data) = next((t, d) for t, d in await worker_events(roster, worker["id"]) if t.startswith("contract."))
    assert (kind, data["rule"], data["prior_arrangement"], data["contract_id"]) == (
        "contract.recontracted",
        "H9",
        "居委会自聘（2019）",
        contract["id"],
    )
    assert data["actor"].startswith("user:")
    renewal = await roster.client.post(
        f"/v1/workers/{worker['id']}/contracts", headers=roster.county_admin, json={"start_date": "2027-01-01"}
    )
    assert (renewal.status_code, renewal.json()["renewal_of"]) == (201, contract["id"])


async def test_replicas_publish_each_transition_once(service_app: ServiceFactory, mint: Mint) -> None:
    """Two replicas' schedulers at once, on committed data, in a province (江苏 320000) no other test uses."""
    roster = await service_app("roster", rollback=False)
    admin = bearer(mint(("province_admin", "320000")))
    client = roster.client
    for code, parent, extra in (
        ("320000", None, {}),
        ("320100", "320000", {}),
        ("320102", "320100", {}),
        ("320102001000", "320102", {}),
        ("320102001001", "320102001000", {"kind": "urban", "households": 2000}),
    ):
        created = await client.post(
            "/v1/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
        )
        assert created.status_code == 201, created.text
    today = business_today()
    quota = await client.put(f"/v1/quotas/320102/{today.year}", headers=admin, json={"headcount": 100})
    assert quota.status_code == 200
    hired = []
    for n in range(12):
        response = await client.post(
            "/v1/workers",
            headers=admin,
            json={
                "id_number": id_number(n, birth="19880808", region="320102"),
                "name": f"调度{n}",
                "community_code": "320102001001",
                "hire_date": today.isoformat(),
            },
        )
        assert response.status_code == 201, response.text
        hired.append(response.json()["id"])
    maker = roster.app.state.sessionmaker
    day = today + relativedelta(months=7)
    await asyncio.gather(*(publish_due_transitions(maker, day, batch=3) for _ in range(3)))
    async with maker() as session:
        rows = (
            (
                await session.execute(
                    text(
                        "SELECT data->>'worker_id' FROM roster.events"
                        " WHERE type = 'worker.updated' AND data->>'worker_id' = ANY(:ids)"
                    ),
                    {"ids": hired},
                )
            )
            .scalars()
            .all()
        )
    assert sorted(rows) == sorted(hired)  # each worker's end of probation, exactly once
