"""Reversing an approved payroll run that was not paid: the reason, who and when kept, its lines gone and its
workers' month free for a new run, ``payroll_run.reversed`` in the feed; refused (409) for a paid run, for a
run not approved, and while another run holds a correction computed against it (paid once); county level
and above only (C11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.compensation.tests.conftest import TOWNSHIP, Compensation, lines
from shared.contracts import PayrollRunReversed, read

REASON = {"reason": "核算依据的职级有误 grade data was wrong"}


async def approved(compensation: Compensation, month: str) -> dict[str, Any]:
    run = await compensation.run(month)
    response = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.county)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reverse(compensation: Compensation, run_id: str, headers: dict[str, str] | None = None) -> Any:
    return await compensation.client.post(
        f"/v1/payroll-runs/{run_id}/reverse", headers=headers or compensation.county, json=REASON
    )


async def test_reversing_an_approved_run_frees_its_month_for_a_new_run(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)
    june = await approved(compensation, "2026-06")
    response = await reverse(compensation, june["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "reversed"
    assert body["reversal_reason"] == REASON["reason"]
    assert body["reversed_by"].startswith("user:")
    assert body["reversed_at"]
    assert body["gross_total"] == june["gross_total"]  # the totals it had stay on the run
    assert body["version"] == june["version"] + 1
    # no payslips any more; a worker's own payslips no longer show it
    slips = await compensation.client.get(f"/v1/payroll-runs/{june['id']}/payslips", headers=compensation.county)
    assert slips.status_code == 409
    # the month is free: a new run of it pays the worker once
    again = await approved(compensation, "2026-06")
    assert again["workers"] == 1
    assert lines(await compensation.payslip(again["id"], worker))["base"] == "5075.00"
    mine = await compensation.client.get(
        f"/v1/workers/{worker}/payslips", headers=compensation.as_(("county_admin", "330302"))
    )
    assert [s["run_id"] for s in mine.json()] == [again["id"]]


async def test_the_reversal_is_published_as_a_typed_event(compensation: Compensation) -> None:
    await compensation.worker()
    run = await approved(compensation, "2026-07")
    assert (await reverse(compensation, run["id"])).status_code == 200
    async with compensation.service.app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT type, data, region FROM compensation.events WHERE subject = :s ORDER BY id"),
                {"s": f"payroll-run/{run['id']}"},
            )
        ).all()
    assert [r[0] for r in rows][-1] == "payroll_run.reversed"
    event = read({"type": rows[-1][0], "data": rows[-1][1]})
    assert isinstance(event, PayrollRunReversed)
    assert (event.reason, event.month, event.workers, str(event.gross_total)) == (
        REASON["reason"],
        "2026-07",
        1,
        run["gross_total"],
    )
    assert rows[-1][2] == TOWNSHIP  # region-scoped feeds see it


async def test_a_paid_run_cannot_be_reversed(compensation: Compensation) -> None:
    await compensation.worker()
    run = await approved(compensation, "2026-08")
    paid = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/pay", headers=compensation.county)
    assert paid.status_code == 200
    refused = await reverse(compensation, run["id"])
    assert refused.status_code == 409
    assert "不能冲销" in refused.json()["detail"]
    assert "paid" in refused.json()["detail"]
    en = await reverse(compensation, run["id"], compensation.county | {"Accept-Language": "en"})
    assert "The run is paid" in en.json()["detail"]
    assert "negative correction" in en.json()["detail"]
    after = await compensation.client.get(f"/v1/payroll-runs/{run['id']}", headers=compensation.county)
    assert after.json()["status"] == "paid"


async def test_only_an_approved_run_can_be_reversed(compensation: Compensation) -> None:
    await compensation.worker()
    run = await compensation.run("2026-09")
    refused = await reverse(compensation, run["id"])
    assert refused.status_code == 409
    assert "状态为 calculated" in refused.json()["detail"]


async def test_only_county_level_and_above_may_reverse(compensation: Compensation) -> None:
    await compensation.worker()
    run = await approved(compensation, "2026-10")
    township = await reverse(compensation, run["id"], compensation.township)
    assert township.status_code == 403
    elsewhere = await reverse(compensation, run["id"], compensation.as_(("county_admin", "330303")))
    assert elsewhere.status_code == 404  # another county's run does not exist for them
    empty = await compensation.client.post(
        f"/v1/payroll-runs/{run['id']}/reverse", headers=compensation.county, json={"reason": ""}
    )
    assert empty.status_code == 422  # a reason is required
    city = await reverse(compensation, run["id"], compensation.as_(("city_admin", "330300")))
    assert city.status_code == 200


async def test_refused_while_a_later_run_holds_a_correction_of_its_month(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)
    january = await approved(compensation, "2026-01")
    await compensation.feed(
        {
            "type": "post.assigned",
            "data": {"worker_id": worker, "post": "staff", "grade": 4, "start_date": "2026-01-01"},
        }
    )
    february = await compensation.run("2026-02")  # holds January's +175.00 computed against January's payslip
    assert lines(await compensation.payslip(february["id"], worker))["adjustment"] == "175.00"
    refused = await reverse(compensation, january["id"])
    assert refused.status_code == 409
    assert refused.json()["dependent_runs"] == [
        {
            "run_id": february["id"],
            "region_code": TOWNSHIP,
            "status": "calculated",
            "corrections": 1,
            "bonus_payouts": 0,
        }
    ]
    # Once February is cancelled, January can be reversed and paid again at grade 4, once.
    cancelled = await compensation.client.post(f"/v1/payroll-runs/{february['id']}/cancel", headers=compensation.county)
    assert cancelled.status_code == 200
    assert (await reverse(compensation, january["id"])).status_code == 200
    again = await approved(compensation, "2026-01")
    assert lines(await compensation.payslip(again["id"], worker))["base"] == "5250.00"
    march = await compensation.run("2026-03")
    assert "adjustment" not in lines(await compensation.payslip(march["id"], worker))
