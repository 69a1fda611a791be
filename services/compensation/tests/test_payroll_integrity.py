"""Paid once, and exactly right: runs at township, county and city level share a month without paying
anyone twice (held by the database), corrections of months already paid are paid once, runs can be
listed and cancelled. Numbers: the 鹿城区 test scale (staff grade 3 = 87,000 a year, grade 5 = 93,000)
under the Wenzhou preset (C5 base share 70 %)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from services.compensation.tests.conftest import Compensation, lines, worker_event

COUNTY, CITY = "330302", "330300"


def post(worker: str, grade: int, start: str) -> dict[str, Any]:
    data = {"worker_id": worker, "post": "staff", "grade": grade, "start_date": start}
    return {"type": "post.assigned", "data": data}


def city(c: Compensation) -> dict[str, str]:
    return c.as_(("city_admin", CITY))


async def create(c: Compensation, region: str, month: str) -> str:
    response = await c.client.post("/v1/payroll-runs", headers=city(c), json={"region_code": region, "month": month})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


async def calculate(c: Compensation, run_id: str, **params: str) -> Any:
    return await c.client.post(f"/v1/payroll-runs/{run_id}/calculate", headers=city(c), params=params)


async def approve(c: Compensation, run_id: str) -> None:
    response = await c.client.post(f"/v1/payroll-runs/{run_id}/approve", headers=city(c))
    assert response.status_code == 200, response.text


async def test_a_county_and_a_city_run_cannot_pay_a_month_a_township_run_paid(compensation: Compensation) -> None:
    c = compensation
    worker = await c.worker("staff", 3)
    township = await c.run("2026-03")
    await approve(c, township["id"])
    for region in (COUNTY, CITY):
        run_id = await create(c, region, "2026-03")
        refused = await calculate(c, run_id)
        assert refused.status_code == 409
        body = refused.json()
        assert body["covering_runs"] == [
            {"run_id": township["id"], "region_code": "330302001000", "status": "approved", "workers": 1}
        ]
        assert township["id"] in body["detail"]
        english = await c.client.post(
            f"/v1/payroll-runs/{run_id}/calculate", headers=city(c) | {"Accept-Language": "en"}
        )
        assert "paid once" in english.json()["detail"]
        # overlap=exclude: the run goes ahead without the worker, and says which run holds them
        excluded = await calculate(c, run_id, overlap="exclude")
        assert excluded.status_code == 200, excluded.text
        assert excluded.json()["workers"] == 0
        assert excluded.json()["excluded"][0]["run_id"] == township["id"]
        await approve(c, run_id)
    slips = (await c.client.get(f"/v1/workers/{worker}/payslips", headers=c.county)).json()
    assert [s["month"] for s in slips] == ["2026-03"]  # one payslip for March, not three


async def test_the_database_refuses_a_second_payslip_for_a_worker_month(compensation: Compensation) -> None:
    """Whatever the application does, the unique index on (worker, month) holds."""
    c = compensation
    worker = await c.worker("staff", 3)
    run = await c.run("2026-03")
    async with c.service.app.state.sessionmaker() as session:
        with pytest.raises(IntegrityError, match="payslips_worker_month_key"):
            await session.execute(
                text(
                    "INSERT INTO compensation.payslips (run_id, worker_id, month, base, certificate_allowance,"
                    " pension, medical, unemployment, housing_fund, income_tax, employer_pension,"
                    " employer_medical, employer_unemployment, employer_injury, employer_housing_fund)"
                    " VALUES (:run, :worker, '2026-03-01', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)"
                ),
                {"run": str(uuid.uuid4()), "worker": worker},
            )
    assert run["workers"] == 1


async def test_an_unfinished_overlapping_run_is_named_until_it_is_cancelled(compensation: Compensation) -> None:
    c = compensation
    await c.worker("staff", 3)
    county_draft = await create(c, COUNTY, "2026-04")
    township = await create(c, "330302001000", "2026-04")
    refused = await calculate(c, township)
    assert refused.status_code == 409
    assert refused.json()["covering_runs"] == [
        {"run_id": county_draft, "region_code": COUNTY, "status": "draft", "workers": None}
    ]
    cancelled = await c.client.post(f"/v1/payroll-runs/{county_draft}/cancel", headers=c.county)
    assert cancelled.json()["status"] == "cancelled"
    assert (await calculate(c, township)).json()["workers"] == 1


async def test_a_calculated_run_holds_its_workers_until_cancelled(compensation: Compensation) -> None:
    c = compensation
    worker = await c.worker("staff", 3)
    county = await create(c, COUNTY, "2026-05")
    assert (await calculate(c, county)).json()["workers"] == 1
    township = await create(c, "330302001000", "2026-05")
    assert (await calculate(c, township, overlap="exclude")).json()["workers"] == 0
    await c.client.post(f"/v1/payroll-runs/{county}/cancel", headers=c.county)
    gone = await c.client.get(f"/v1/payroll-runs/{county}/payslips", headers=c.county)
    assert gone.status_code == 409  # a cancelled run has no payslips
    again = await calculate(c, township)
    assert again.json()["workers"] == 1
    assert again.json()["excluded"] == []
    assert lines(await c.payslip(township, worker))["base"] == "5075.00"


async def test_runs_are_listed_by_region_month_and_status(compensation: Compensation) -> None:
    c = compensation
    await c.worker("staff", 3)
    march = await c.run("2026-03")
    await approve(c, march["id"])
    april = await c.run("2026-04")
    county_may = await create(c, COUNTY, "2026-05")
    everything = (await c.client.get("/v1/payroll-runs", headers=c.county)).json()
    assert [r["id"] for r in everything["items"]] == [county_may, april["id"], march["id"]]  # newest month first
    approved = (await c.client.get("/v1/payroll-runs", headers=c.county, params={"status": "approved"})).json()
    assert [r["id"] for r in approved["items"]] == [march["id"]]
    by_month = (await c.client.get("/v1/payroll-runs", headers=c.county, params={"month": "2026-04"})).json()
    assert [r["id"] for r in by_month["items"]] == [april["id"]]
    township = (await c.client.get("/v1/payroll-runs", headers=c.county, params={"region_code": "330302001000"})).json()
    assert county_may not in [r["id"] for r in township["items"]]
    first = (await c.client.get("/v1/payroll-runs", headers=c.county, params={"limit": 2})).json()
    rest = (
        await c.client.get("/v1/payroll-runs", headers=c.county, params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in everything["items"]]
    other_county = c.as_(("county_admin", "330303"))
    assert (await c.client.get("/v1/payroll-runs", headers=other_county)).json()["items"] == []


async def test_a_back_dated_grade_is_paid_once_as_adjustments_not_by_repricing(compensation: Compensation) -> None:
    """January and February paid at grade 3 (5,075.00 a month); a grade 5 back-dated to the hire date
    (93,000 × 70 % / 12 = 5,425.00): March pays 5,425.00 plus 350.00 for each of the two months, and
    April pays no correction again."""
    c = compensation
    worker = await c.worker("staff", 3, start="2026-01-05")
    for month in ("2026-01", "2026-02"):
        await approve(c, (await c.run(month))["id"])
    await c.feed(post(worker, 5, "2026-01-05"))
    march = await c.run("2026-03")
    slip = lines(await c.payslip(march["id"], worker))
    assert (slip["base"], slip["adjustment"]) == ("5425.00", "700.00")
    await approve(c, march["id"])
    april = await c.run("2026-04")
    assert "adjustment" not in lines(await c.payslip(april["id"], worker))


async def test_a_correction_held_by_an_unapproved_run_is_not_paid_again(compensation: Compensation) -> None:
    c = compensation
    worker = await c.worker("staff", 3, start="2026-01-05")
    await approve(c, (await c.run("2026-01"))["id"])
    await c.feed(post(worker, 5, "2026-01-05"))
    february = await c.run("2026-02")  # calculated, not approved: it holds January's 350.00
    assert lines(await c.payslip(february["id"], worker))["adjustment"] == "350.00"
    march = await c.run("2026-03")
    assert "adjustment" not in lines(await c.payslip(march["id"], worker))


async def test_a_back_dated_leaving_takes_back_what_was_overpaid(compensation: Compensation) -> None:
    """Paid in full for February, then found to have left on 14 February (28 days): 5,075.00 × 14/28 =
    2,537.50 was owed, so March carries −2,537.50 on a payslip of the correction alone."""
    c = compensation
    worker = await c.worker("staff", 3, start="2026-01-05")
    for month in ("2026-01", "2026-02"):
        await approve(c, (await c.run(month))["id"])
    await c.feed(worker_event(worker, hire="2026-01-05", left="2026-02-14", version=2))
    march = await c.run("2026-03")
    slip = await c.payslip(march["id"], worker)
    assert lines(slip)["adjustment"] == "-2537.50"
    assert lines(slip)["base"] == "0.00"
    assert Decimal(march["gross_total"]) == Decimal("-2537.50")


async def test_a_worker_hired_again_keeps_the_first_employments_pay(compensation: Compensation) -> None:
    """Re-hire keeps one worker id: the months of the first employment stay paid, no claw-back."""
    c = compensation
    worker = await c.worker("staff", 3, start="2026-01-05")
    await approve(c, (await c.run("2026-01"))["id"])
    employments: list[dict[str, str | None]] = [{"hire_date": "2026-01-05", "left_date": "2026-01-31"}]
    await c.feed(worker_event(worker, hire="2026-01-05", left="2026-01-31", version=2, employments=employments))
    employments.append({"hire_date": "2026-04-01", "left_date": None})
    await c.feed(worker_event(worker, hire="2026-04-01", version=3, employments=employments))
    await c.feed(post(worker, 3, "2026-04-01"))
    assert (await c.run("2026-02"))["workers"] == 0
    april = await c.run("2026-04")
    slip = lines(await c.payslip(april["id"], worker))
    assert slip["base"] == "5075.00"
    assert "adjustment" not in slip


async def test_a_late_hire_is_paid_by_a_supplementary_run_of_the_same_month(compensation: Compensation) -> None:
    """March approved for the township; a worker hired on 10 March is recorded afterwards. A second run of
    the same township and month pays only them (overlap=exclude) and can be approved."""
    c = compensation
    early = await c.worker("staff", 3, start="2026-03-02")
    march = await c.run("2026-03")
    await approve(c, march["id"])
    late = await c.worker("staff", 3, start="2026-03-10")
    supplementary = await create(c, "330302001000", "2026-03")
    body = (await calculate(c, supplementary, overlap="exclude")).json()
    assert body["workers"] == 1
    assert body["excluded"][0]["run_id"] == march["id"]
    await approve(c, supplementary)
    assert lines(await c.payslip(supplementary, late))["base"] == "5075.00"
    slips = (await c.client.get(f"/v1/workers/{early}/payslips", headers=c.county)).json()
    assert [s["run_id"] for s in slips] == [march["id"]]


async def test_left_and_hired_again_in_one_month_pays_the_days_worked_once(compensation: Compensation) -> None:
    """Left on 5 March, hired again on 20 March (same post, grade 3): the joining month in full (C6) does
    not apply to a month already worked, so March pays 5 + 12 of 31 days: 5,075.00 × 17/31 = 2,783.06."""
    c = compensation
    worker = await c.worker("staff", 3, start="2026-01-05")
    employments: list[dict[str, str | None]] = [{"hire_date": "2026-01-05", "left_date": "2026-03-05"}]
    await c.feed(worker_event(worker, hire="2026-01-05", left="2026-03-05", version=2, employments=employments))
    employments.append({"hire_date": "2026-03-20", "left_date": None})
    await c.feed(worker_event(worker, hire="2026-03-20", version=3, employments=employments))
    await c.feed(post(worker, 3, "2026-03-20"))
    march = await c.run("2026-03")
    assert lines(await c.payslip(march["id"], worker))["base"] == "2783.06"
