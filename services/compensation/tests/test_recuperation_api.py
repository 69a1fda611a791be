"""C10 recuperation leave through the HTTP API: at most 400 yuan a day, 5 days, 2,000 yuan per person a
year. Paid up to the caps, asked and allowed kept side by side; refused only what cannot be paid at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.compensation.tests.conftest import COMMUNITY, Compensation

URL = "/v1/recuperation-claims"


async def claim(compensation: Compensation, worker: str, start: str, days: int, amount: str, **headers: str) -> Any:
    return await compensation.client.post(
        URL,
        headers=compensation.township | headers,
        json={"worker_id": worker, "start_date": start, "days": days, "amount": amount},
    )


async def test_c10_above_400_a_day_is_allowed_at_the_cap_and_read_back(compensation: Compensation) -> None:
    worker = await compensation.worker()
    response = await claim(compensation, worker, "2026-04-01", 3, "1500.00")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["amount_requested"], body["amount_allowed"]) == ("1500.00", "1200.00")  # 3 days × 400
    assert [(r["rule"], r["code"]) for r in body["reductions"]] == [("C10", "per_day_cap")]
    assert "400" in body["reductions"][0]["zh"]
    assert "400" in body["reductions"][0]["en"]
    assert (body["year"], body["year_used"], body["year_left"]) == (2026, "1200.00", "800.00")
    assert response.headers["location"] == f"/v1/recuperation-claims/{body['id']}"
    read = await compensation.client.get(f"{URL}/{body['id']}", headers=compensation.county)
    assert read.status_code == 200
    assert read.json() == body
    async with compensation.service.app.state.sessionmaker() as session:
        region = await session.scalar(
            text("SELECT region FROM compensation.events WHERE type = 'recuperation.recorded' AND subject = :s"),
            {"s": f"worker/{worker}"},
        )
    assert region == COMMUNITY  # the worker's community: county feeds carry the claim (issue #13)


async def test_c10_beyond_the_years_2000_is_allowed_up_to_what_is_left_then_refused(
    compensation: Compensation,
) -> None:
    worker = await compensation.worker()
    assert (await claim(compensation, worker, "2026-04-01", 3, "1500.00")).json()["amount_allowed"] == "1200.00"
    second = (await claim(compensation, worker, "2026-09-01", 4, "1000.50")).json()
    assert (second["amount_requested"], second["amount_allowed"]) == ("1000.50", "800.00")  # 2,000 − 1,200
    assert [r["code"] for r in second["reductions"]] == ["year_allowance"]
    assert (second["year_used"], second["year_left"]) == ("2000.00", "0.00")
    used_up = await claim(compensation, worker, "2026-11-01", 1, "100.00", **{"Accept-Language": "en"})
    assert used_up.status_code == 409
    assert used_up.headers["content-type"] == "application/problem+json"
    problem = used_up.json()
    assert (problem["rule"], problem["year_used"], problem["year_left"]) == ("C10", "2000.00", "0.00")
    assert [(e["pointer"], e["rule"]) for e in problem["errors"]] == [("/body/amount", "C10")]
    assert "used up" in problem["detail"]
    next_year = await claim(compensation, worker, "2027-03-01", 2, "800.00")
    assert (next_year.status_code, next_year.json()["year_left"]) == (201, "1200.00")  # a new year's allowance


async def test_c10_more_than_5_days_cannot_be_paid_and_is_refused(compensation: Compensation) -> None:
    worker = await compensation.worker()
    refused = await claim(compensation, worker, "2026-04-01", 6, "1800.00")
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["rule"], problem["errors"][0]["pointer"]) == ("C10", "/body/days")
    assert "5" in problem["detail"]
    listed = await compensation.client.get(URL, headers=compensation.county, params={"worker_id": worker, "year": 2026})
    assert listed.json()["items"] == []


async def test_c10_claims_listed_per_worker_and_per_county_with_the_years_used_and_left(
    compensation: Compensation,
) -> None:
    first, second = await compensation.worker(), await compensation.worker()
    await claim(compensation, first, "2026-04-01", 1, "333.33")
    await claim(compensation, first, "2026-05-01", 2, "900.00")  # allowed 800.00
    await claim(compensation, second, "2026-06-01", 2, "799.99")
    mine = (
        await compensation.client.get(URL, headers=compensation.county, params={"worker_id": first, "year": 2026})
    ).json()
    assert [(c["amount_requested"], c["amount_allowed"]) for c in mine["items"]] == [
        ("333.33", "333.33"),
        ("900.00", "800.00"),
    ]
    assert {(c["year_used"], c["year_left"]) for c in mine["items"]} == {("1133.33", "866.67")}  # to the cent
    county = await compensation.client.get(
        URL, headers=compensation.county, params={"county_code": "330302", "year": 2026, "limit": 2}
    )
    page = county.json()
    assert [c["worker_id"] for c in page["items"]] == [first, first]
    rest = (
        await compensation.client.get(
            URL,
            headers=compensation.county,
            params={"county_code": "330302", "year": 2026, "limit": 2, "cursor": page["next_cursor"]},
        )
    ).json()
    assert [(c["worker_id"], c["year_used"], c["year_left"]) for c in rest["items"]] == [(second, "799.99", "1200.01")]
    assert rest["next_cursor"] is None
    both = await compensation.client.get(
        URL, headers=compensation.county, params={"county_code": "330302", "worker_id": first, "year": 2026}
    )
    assert (both.status_code, both.json()["errors"][0]["field"]) == (422, "worker_id")
