"""C5: a township's allocated bonus is paid on payslips, once. Each calculation of a run pays a worker the live
allocation's share less what other live runs already pay of it: the first run pays the share, a later one
nothing, a replacement only the difference (negative: taken back), a cancelled or reversed run's payout goes
to the next run, a leaver owed a share gets a payslip of the bonus alone; the bonus is pay (gross, net,
cumulative income tax, the run's totals) but not a contribution base (C9) nor an employer line (C1).

Through the compensation HTTP API, on PostgreSQL. Every worker took the post on 2025-01-05, so each has
12.00 months in post in 2026 and a pool is shared by the grade coefficients alone (excellent 1.2, competent
1.0); staff grade 3 is 87,000 a year: a monthly base of 87,000 × 70 % / 12 = 5,075.00 (C4, C5).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.compensation.tests.conftest import TOWNSHIP, Compensation, graded_events, lines, worker_event

COEFFICIENTS = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}
URL = "/v1/bonus-allocations"
OTHER_TOWNSHIP, OTHER_COMMUNITY = "330302002000", "330302002001"


async def allocated(
    compensation: Compensation, *grades: str, pool: str = "30000.00", post: str = "staff", grade: int = 3
) -> tuple[list[str], dict[str, Any]]:
    """Workers of the township in post since 2025-01-05 with their 2026 assessment grades, the county's
    coefficients, and the township's 2026 allocation of ``pool`` (C5)."""
    workers = [await compensation.worker(post, grade, start="2025-01-05") for _ in grades]
    await compensation.feed(*graded_events(workers, grades, 2026))
    profile = await compensation.client.put(
        "/v1/policy-profiles/330302/2026",
        headers=compensation.county,
        json={
            "parameters": {"bonus_coefficients": COEFFICIENTS},
            "sources": {"bonus_coefficients": "鹿城区绩效奖金分配办法"},
        },
    )
    assert profile.status_code == 200, profile.text
    response = await compensation.client.post(
        URL, headers=compensation.township, json={"township_code": TOWNSHIP, "year": 2026, "pool": pool}
    )
    assert response.status_code == 201, response.text
    allocation: dict[str, Any] = response.json()
    assert all(s["months"] == "12.00" for s in allocation["shares"])
    return workers, allocation


def shares(allocation: dict[str, Any]) -> dict[str, str]:
    return {s["worker_id"]: s["share"] for s in allocation["shares"]}


async def replaced(compensation: Compensation, allocation: dict[str, Any], pool: str) -> dict[str, Any]:
    response = await compensation.client.post(
        f"{URL}/{allocation['id']}/replace",
        headers=compensation.township,
        json={"pool": pool, "reason": "乡镇调整奖金总额（镇党委会议纪要）"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def step(compensation: Compensation, run: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    """approve, pay, cancel or reverse (county level and above) a run."""
    headers = compensation.county if action == "reverse" else compensation.township
    response = await compensation.client.post(
        f"/v1/payroll-runs/{run['id']}/{action}", headers=headers, json=body or None
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def payouts(compensation: Compensation, allocation: dict[str, Any]) -> list[dict[str, Any]]:
    response = await compensation.client.get(f"{URL}/{allocation['id']}/payouts", headers=compensation.county)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def paid_per_worker(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for row in rows:
        total[row["worker_id"]] = total.get(row["worker_id"], Decimal(0)) + Decimal(row["amount"])
    return total


async def county_run(compensation: Compensation, region: str, month: str) -> dict[str, Any]:
    """A run created and calculated by the county (any region of the county)."""
    created = await compensation.client.post(
        "/v1/payroll-runs", headers=compensation.county, json={"region_code": region, "month": month}
    )
    assert created.status_code == 201, created.text
    calculated = await compensation.client.post(
        f"/v1/payroll-runs/{created.json()['id']}/calculate", headers=compensation.county
    )
    assert calculated.status_code == 200, calculated.text
    body: dict[str, Any] = calculated.json()
    return body


async def county_payslip(compensation: Compensation, run_id: str, worker_id: str) -> dict[str, Any]:
    """A payslip of a county run (a township officer does not see the county's runs)."""
    response = await compensation.client.get(
        f"/v1/payroll-runs/{run_id}/payslips", headers=compensation.county, params={"limit": 500}
    )
    assert response.status_code == 200, response.text
    (slip,) = [s for s in response.json() if s["worker_id"] == worker_id]
    payslip: dict[str, Any] = slip
    return payslip


def bonus_basis(payslip: dict[str, Any]) -> str:
    (basis,) = [line["basis"] for line in payslip["lines"] if line["kind"] == "bonus"]
    assert isinstance(basis, str)
    return basis


async def test_c5_the_next_run_pays_each_worker_their_share_on_a_bonus_line_naming_c5_and_the_allocation(
    compensation: Compensation,
) -> None:
    (good, fair), allocation = await allocated(compensation, "excellent", "competent")
    # 30,000 by 1.2 × 12 : 1.0 × 12 = 16,363.636… : 13,636.363… → 16,363.64 and 13,636.36 (largest remainder)
    assert shares(allocation) == {good: "16363.64", fair: "13636.36"}
    january = await compensation.run("2026-01")
    slips = {w: await compensation.payslip(january["id"], w) for w in (good, fair)}
    assert (lines(slips[good])["base"], lines(slips[good])["bonus"]) == ("5075.00", "16363.64")
    assert (lines(slips[fair])["base"], lines(slips[fair])["bonus"]) == ("5075.00", "13636.36")
    assert (slips[good]["gross"], slips[fair]["gross"]) == ("21438.64", "18711.36")  # base + bonus
    for slip in slips.values():
        basis = bonus_basis(slip)
        assert basis.startswith(f"C5 2026 {TOWNSHIP}")
        assert allocation["id"] in basis
    # Consequence 1: after the run, what live runs pay of the bonus is the live share, to the cent.
    assert paid_per_worker(await payouts(compensation, allocation)) == {
        good: Decimal("16363.64"),
        fair: Decimal("13636.36"),
    }


async def test_c5_the_bonus_enters_gross_net_income_tax_and_the_run_totals_not_contributions_c9_nor_employer_c1(
    compensation: Compensation,
) -> None:
    (good, fair), _ = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    good_slip, fair_slip = [await compensation.payslip(january["id"], w) for w in (good, fair)]
    # Contributions on the wage (C9), not on the bonus: 8 % 406.00, 2 % 101.50, 0.5 % 25.38, 12 % 609.00 of 5,075.
    for slip in (good_slip, fair_slip):
        amounts = lines(slip)
        assert (amounts["pension"], amounts["medical"], amounts["unemployment"], amounts["housing_fund"]) == (
            "-406.00",
            "-101.50",
            "-25.38",
            "-609.00",
        )
        # C1: the employer's 16 % 812.00, 9.5 % 482.13, 0.5 % 25.38, 0.2 % 10.15, 12 % 609.00: apart, not pay
        assert slip["employer"] == "1938.66"
    # Cumulative withholding, January: 5,075.00 + 16,363.64 − 1,141.88 − 5,000 = 15,296.76 × 3 % = 458.90
    assert lines(good_slip)["income_tax"] == "-458.90"
    assert (good_slip["gross"], good_slip["net"]) == ("21438.64", "19837.86")  # 21,438.64 − 1,141.88 − 458.90
    # 5,075.00 + 13,636.36 − 1,141.88 − 5,000 = 12,569.48 × 3 % = 377.08
    assert lines(fair_slip)["income_tax"] == "-377.08"
    assert (fair_slip["gross"], fair_slip["net"]) == ("18711.36", "17192.40")
    # The run's totals: 2 × 5,075.00 + the whole pool 30,000.00; nets 19,837.86 + 17,192.40
    assert (january["gross_total"], january["net_total"], january["employer_total"]) == (
        "40150.00",
        "37030.26",
        "3877.32",
    )


async def test_c5_a_bonus_paid_in_january_is_in_februarys_cumulative_income_tax(compensation: Compensation) -> None:
    # chief 18: 136,000 a year, 7,933.33 a month; contributions 634.67 + 158.67 + 39.67 + 952.00 = 1,785.01.
    (worker,), allocation = await allocated(compensation, "competent", pool="40000.00", post="chief", grade=18)
    assert shares(allocation) == {worker: "40000.00"}  # alone: the whole pool
    january = await compensation.run("2026-01")
    slip = lines(await compensation.payslip(january["id"], worker))
    # 7,933.33 + 40,000.00 − 1,785.01 − 5,000 = 41,148.32: 10 % − 2,520 = 1,594.83
    assert (slip["bonus"], slip["income_tax"]) == ("40000.00", "-1594.83")
    await step(compensation, january, "approve")
    february = await compensation.run("2026-02")
    slip = lines(await compensation.payslip(february["id"], worker))
    assert "bonus" not in slip  # paid once
    # Year to date 55,866.66 − 3,570.02 − 10,000 = 42,296.64: 10 % − 2,520 = 1,709.66, less 1,594.83 withheld.
    # Without January's bonus in the year's income February would withhold 34.45 (3 % of 1,148.32).
    assert slip["income_tax"] == "-114.83"


async def test_c5_two_runs_calculated_after_one_allocation_pay_the_share_once(compensation: Compensation) -> None:
    (good, fair), allocation = await allocated(compensation, "excellent", "competent")
    october = await compensation.run("2026-10")
    november = await compensation.run("2026-11")  # October is calculated, not approved: it holds the payout
    for worker, share in ((good, "16363.64"), (fair, "13636.36")):
        assert lines(await compensation.payslip(october["id"], worker))["bonus"] == share
        assert "bonus" not in lines(await compensation.payslip(november["id"], worker))
    assert november["gross_total"] == "10150.00"  # two bases, no bonus
    rows = await payouts(compensation, allocation)
    assert {(r["month"], r["run_id"], r["run_status"]) for r in rows} == {("2026-10", october["id"], "calculated")}
    assert paid_per_worker(rows) == {good: Decimal("16363.64"), fair: Decimal("13636.36")}
    for run in (october, november):
        await step(compensation, run, "approve")
    december = await compensation.run("2026-12")
    assert december["gross_total"] == "10150.00"
    for worker in (good, fair):
        assert "bonus" not in lines(await compensation.payslip(december["id"], worker))


async def test_c5_a_larger_replacement_after_payment_pays_only_the_difference(compensation: Compensation) -> None:
    (good, fair), first = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    await step(compensation, january, "pay")
    second = await replaced(compensation, first, "36000.00")
    # 36,000 by 14.4 : 12 = 19,636.363… : 16,363.636… → 19,636.36 and 16,363.64
    assert shares(second) == {good: "19636.36", fair: "16363.64"}
    february = await compensation.run("2026-02")
    good_slip, fair_slip = [await compensation.payslip(february["id"], w) for w in (good, fair)]
    assert lines(good_slip)["bonus"] == "3272.72"  # 19,636.36 − 16,363.64 paid in January
    assert lines(fair_slip)["bonus"] == "2727.28"  # 16,363.64 − 13,636.36
    assert second["id"] in bonus_basis(good_slip)
    assert first["id"] not in bonus_basis(good_slip)
    assert (good_slip["gross"], fair_slip["gross"], february["gross_total"]) == ("8347.72", "7802.28", "16150.00")
    rows = await payouts(compensation, second)
    assert paid_per_worker(rows) == {good: Decimal("19636.36"), fair: Decimal("16363.64")}  # the live shares
    march = await compensation.run("2026-03")
    assert march["gross_total"] == "10150.00"  # nothing more


async def test_c5_a_smaller_replacement_after_payment_takes_the_difference_back_as_a_negative_bonus_line(
    compensation: Compensation,
) -> None:
    (good, fair), first = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    await step(compensation, january, "pay")
    second = await replaced(compensation, first, "24000.00")
    # 24,000 by 14.4 : 12 = 13,090.909… : 10,909.090… → 13,090.91 and 10,909.09
    assert shares(second) == {good: "13090.91", fair: "10909.09"}
    february = await compensation.run("2026-02")
    good_slip, fair_slip = [await compensation.payslip(february["id"], w) for w in (good, fair)]
    assert lines(good_slip)["bonus"] == "-3272.73"  # 13,090.91 − 16,363.64
    assert lines(fair_slip)["bonus"] == "-2727.27"  # 10,909.09 − 13,636.36
    assert second["id"] in bonus_basis(fair_slip)
    assert (good_slip["gross"], fair_slip["gross"]) == ("1802.27", "2347.73")  # 5,075.00 less the clawback
    assert february["gross_total"] == "4150.00"  # 10,150.00 − 6,000.00
    assert paid_per_worker(await payouts(compensation, second)) == {
        good: Decimal("13090.91"),
        fair: Decimal("10909.09"),
    }


async def test_c5_cancelling_the_run_that_held_the_payout_lets_the_next_run_pay_it_once(
    compensation: Compensation,
) -> None:
    (good, fair), allocation = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    assert lines(await compensation.payslip(january["id"], good))["bonus"] == "16363.64"
    await step(compensation, january, "cancel")
    assert await payouts(compensation, allocation) == []  # a cancelled run pays nothing
    february = await compensation.run("2026-02")
    assert lines(await compensation.payslip(february["id"], good))["bonus"] == "16363.64"
    assert lines(await compensation.payslip(february["id"], fair))["bonus"] == "13636.36"
    assert february["gross_total"] == "40150.00"
    march = await compensation.run("2026-03")
    assert march["gross_total"] == "10150.00"  # once
    assert {r["run_id"] for r in await payouts(compensation, allocation)} == {february["id"]}


async def test_c5_reversing_the_approved_run_that_paid_the_bonus_gives_it_to_the_next_run_once(
    compensation: Compensation,
) -> None:
    (good, fair), allocation = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    reversed_run = await step(compensation, january, "reverse", reason="审批有误 approved in error")
    assert reversed_run["status"] == "reversed"
    assert await payouts(compensation, allocation) == []
    again = await compensation.run("2026-01")  # the month run again
    assert lines(await compensation.payslip(again["id"], good))["bonus"] == "16363.64"
    assert lines(await compensation.payslip(again["id"], fair))["bonus"] == "13636.36"
    await step(compensation, again, "approve")
    february = await compensation.run("2026-02")
    assert february["gross_total"] == "10150.00"
    rows = await payouts(compensation, allocation)
    assert {(r["run_id"], r["run_status"]) for r in rows} == {(again["id"], "approved")}
    assert paid_per_worker(rows) == {good: Decimal("16363.64"), fair: Decimal("13636.36")}


async def test_c5_a_worker_who_left_before_the_month_gets_a_payslip_of_the_bonus_alone(
    compensation: Compensation,
) -> None:
    (gone, fair), allocation = await allocated(compensation, "excellent", "competent")
    await compensation.feed(worker_event(gone, left="2026-06-30", version=2))  # after the allocation
    july = await compensation.run("2026-07")
    assert july["workers"] == 2
    slip = await compensation.payslip(july["id"], gone)
    amounts = lines(slip)
    assert (amounts["base"], amounts["bonus"]) == ("0.00", "16363.64")
    assert allocation["id"] in bonus_basis(slip)
    # No wage this month: no contributions (C9), no employer lines (C1); the tax the bonus adds to the
    # year's cumulative income (no approved month before): 16,363.64 × 3 % = 490.91
    assert set(amounts) == {"base", "bonus", "income_tax"}
    assert amounts["income_tax"] == "-490.91"
    assert (slip["gross"], slip["net"], slip["employer"]) == ("16363.64", "15872.73", "0.00")
    assert lines(await compensation.payslip(july["id"], fair))["bonus"] == "13636.36"  # in post: wage and bonus
    august = await compensation.run("2026-08")
    assert august["workers"] == 1  # the leaver was paid: nothing more


async def test_c5_a_worker_no_longer_in_the_live_allocation_has_the_share_paid_taken_back(
    compensation: Compensation,
) -> None:
    (moved, fair), first = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    # The worker moves to another township of the county; the replacement shares among those still there.
    await compensation.feed(worker_event(moved, version=2, community_code=OTHER_COMMUNITY) | {"type": "worker.updated"})
    second = await replaced(compensation, first, "30000.00")
    assert shares(second) == {fair: "30000.00"}
    february = await county_run(compensation, "330302", "2026-02")  # both townships: the mover too
    assert lines(await county_payslip(compensation, february["id"], moved))["bonus"] == "-16363.64"  # 0 − 16,363.64
    assert lines(await county_payslip(compensation, february["id"], fair))["bonus"] == "16363.64"  # 30,000 − 13,636.36
    assert paid_per_worker(await payouts(compensation, second)) == {moved: Decimal("0.00"), fair: Decimal("30000.00")}


async def test_c5_an_allocations_payouts_list_every_live_payout_by_month_and_worker(
    compensation: Compensation,
) -> None:
    (good, fair), first = await allocated(compensation, "excellent", "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    second = await replaced(compensation, first, "33000.00")
    assert shares(second) == {good: "18000.00", fair: "15000.00"}  # 33,000 by 14.4 : 12
    dropped = await compensation.run("2026-02")
    assert lines(await compensation.payslip(dropped["id"], good))["bonus"] == "1636.36"
    await step(compensation, dropped, "cancel")  # its payouts go with it
    february = await compensation.run("2026-02")
    first_worker, second_worker = sorted((good, fair))
    amounts = {
        ("2026-01", good): "16363.64",
        ("2026-01", fair): "13636.36",
        ("2026-02", good): "1636.36",  # 18,000.00 − 16,363.64
        ("2026-02", fair): "1363.64",  # 15,000.00 − 13,636.36
    }
    expected = [
        {
            "worker_id": worker,
            "allocation_id": allocation["id"],
            "run_id": run["id"],
            "month": month,
            "run_status": status,
            "amount": amounts[(month, worker)],
        }
        for month, run, allocation, status in (
            ("2026-01", january, first, "approved"),
            ("2026-02", february, second, "calculated"),
        )
        for worker in (first_worker, second_worker)
    ]
    for allocation in (second, first):  # the township and year's payouts, whichever allocation is asked
        rows = await payouts(compensation, allocation)
        assert [{k: r[k] for k in expected[0]} for r in rows] == expected
        assert all(r["basis"].startswith(f"C5 2026 {TOWNSHIP}") for r in rows)
    elsewhere = compensation.as_(("township_officer", OTHER_TOWNSHIP))
    hidden = await compensation.client.get(f"{URL}/{second['id']}/payouts", headers=elsewhere)
    assert hidden.status_code == 404  # the allocation's visibility (another township's officer)


async def test_c5_a_bonus_held_by_a_run_not_yet_approved_waits_for_it_and_cancelled_goes_to_the_next_run(
    compensation: Compensation,
) -> None:
    """At most one unapproved run holds a worker's bonus: a later run does not pay or take back against it (so
    cancelling it never leaves a payout that counted on it); once it is cancelled the next run settles."""
    (worker,), first = await allocated(compensation, "competent")  # alone: the whole pool
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    await step(compensation, january, "pay")  # 30,000.00 paid out
    second = await replaced(compensation, first, "24000.00")
    february = await compensation.run("2026-02")
    assert lines(await compensation.payslip(february["id"], worker))["bonus"] == "-6000.00"  # not approved
    third = await replaced(compensation, second, "36000.00")
    march = await compensation.run("2026-03")  # February, not approved, holds the bonus: March waits
    assert "bonus" not in lines(await compensation.payslip(march["id"], worker))
    await step(compensation, march, "approve")
    await step(compensation, february, "cancel")  # nothing counted on its −6,000.00
    assert paid_per_worker(await payouts(compensation, third)) == {worker: Decimal("30000.00")}
    april = await compensation.run("2026-04")
    assert lines(await compensation.payslip(april["id"], worker))["bonus"] == "6000.00"  # 36,000 − 30,000
    assert paid_per_worker(await payouts(compensation, third)) == {worker: Decimal("36000.00")}


async def test_c5_an_approved_run_whose_bonus_a_later_run_counted_is_not_reversed_before_that_run(
    compensation: Compensation,
) -> None:
    """January paid 30,000.00 (approved, not paid out); lowered to 24,000.00, February takes 6,000.00 back
    counting January's. Reversing January first would leave February taking back money never paid: refused
    naming February, as for corrections; February cancelled, January reverses."""
    (worker,), first = await allocated(compensation, "competent")
    january = await compensation.run("2026-01")
    await step(compensation, january, "approve")
    await replaced(compensation, first, "24000.00")
    february = await compensation.run("2026-02")
    assert lines(await compensation.payslip(february["id"], worker))["bonus"] == "-6000.00"
    refused = await compensation.client.post(
        f"/v1/payroll-runs/{january['id']}/reverse",
        headers=compensation.county | {"Accept-Language": "en"},
        json={"reason": "审批有误 approved in error"},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["dependent_runs"] == [
        {
            "run_id": february["id"],
            "region_code": TOWNSHIP,
            "status": "calculated",
            "corrections": 0,
            "bonus_payouts": 1,
        }
    ]
    assert "bonus" in refused.json()["detail"]
    await step(compensation, february, "cancel")
    reversed_run = await step(compensation, january, "reverse", reason="审批有误 approved in error")
    assert reversed_run["status"] == "reversed"
    again = await compensation.run("2026-01")  # the month run again pays today's share, once
    assert lines(await compensation.payslip(again["id"], worker))["bonus"] == "24000.00"
