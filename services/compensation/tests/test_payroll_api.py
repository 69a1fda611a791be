"""Payroll with the documents' numbers: proration (C6), certificate allowances (C8), mid-month changes,
deductions and cumulative income tax, immutability of approved runs, totals to the cent, payslips."""

from __future__ import annotations

from decimal import Decimal

from conftest import Mint, ServiceFactory
from services.compensation.tests.conftest import Compensation, lines, worker_event


async def test_a_worker_leaving_on_the_10th_of_a_30_day_month_gets_10_30(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)  # 87,000 a year: 87,000 × 70 % / 12 = 5,075.00 a month
    await compensation.feed(worker_event(worker, left="2026-06-10", version=2))
    june = await compensation.run("2026-06")  # June has 30 days
    slip = await compensation.payslip(june["id"], worker)
    assert lines(slip)["base"] == "1691.67"  # 5,075.00 × 10/30
    assert "staff 3 10/30" in next(line["basis"] for line in slip["lines"] if line["kind"] == "base")
    july = await compensation.run("2026-07")
    assert july["workers"] == 0  # gone


async def test_pay_starts_in_the_month_of_taking_the_post_in_full(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3, start="2026-03-20")
    march = await compensation.run("2026-03")
    assert (
        lines(await compensation.payslip(march["id"], worker))["base"] == "5075.00"
    )  # C6 wenzhou: the joining month in full


async def test_joining_month_prorated_where_the_county_says_so(compensation: Compensation) -> None:
    response = await compensation.client.put(
        "/v1/policy-profiles/330302/2026",
        headers=compensation.county,
        json={"parameters": {"joining_month": "prorate"}, "sources": {"joining_month": "鹿城区薪酬办法 第5条"}},
    )
    assert response.status_code == 200
    worker = await compensation.worker("staff", 3, start="2026-03-20")
    march = await compensation.run("2026-03")  # 12 of 31 days
    assert lines(await compensation.payslip(march["id"], worker))["base"] == "1964.52"  # 5,075.00 × 12/31


async def test_certificate_allowances_600_400_200(compensation: Compensation) -> None:
    levels = {"senior": "600.00", "social_worker": "400.00", "assistant": "200.00"}
    workers = {
        level: await compensation.worker(certificate_level=level, certificate_date="2024-06-01") for level in levels
    }
    plain = await compensation.worker()
    run = await compensation.run("2026-04")
    for level, amount in levels.items():
        assert lines(await compensation.payslip(run["id"], workers[level]))["certificate_allowance"] == amount  # C8
    assert "certificate_allowance" not in lines(await compensation.payslip(run["id"], plain))


async def test_a_grade_change_mid_month_is_prorated_by_days(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)
    await compensation.feed(
        {
            "type": "post.assigned",
            "data": {"worker_id": worker, "post": "staff", "grade": 4, "start_date": "2026-06-16"},
        }
    )
    june = await compensation.run("2026-06")
    # 15 days of grade 3 (87,000) and 15 of grade 4 (90,000): 2,537.50 + 2,625.00
    assert lines(await compensation.payslip(june["id"], worker))["base"] == "5162.50"


async def test_deductions_employer_lines_and_totals_reconcile(compensation: Compensation) -> None:
    worker = await compensation.worker("chief", 10, certificate_level="social_worker", certificate_date="2024-01-01")
    run = await compensation.run("2026-01")
    slip = await compensation.payslip(run["id"], worker)
    amounts = lines(slip)
    gross = Decimal("7000.00") + Decimal("400.00")  # 120,000 × 70 % / 12; social worker allowance
    assert (amounts["base"], amounts["certificate_allowance"]) == ("7000.00", "400.00")
    assert amounts["pension"] == "-592.00"  # 8 % of 7,400
    assert amounts["housing_fund"] == "-888.00"  # 12 %
    assert amounts["employer_pension"] == "1184.00"  # 16 %: shown apart, not pay (C1)
    # January: 7,400 − 592 − 148 − 37 − 888 − 5,000 = 735 taxable × 3 % = 22.05
    assert amounts["income_tax"] == "-22.05"
    assert Decimal(slip["gross"]) == gross
    assert Decimal(slip["net"]) == gross - Decimal("592.00") - Decimal("148.00") - Decimal("37.00") - Decimal(
        "888.00"
    ) - Decimal("22.05")
    assert Decimal(run["gross_total"]) == gross
    assert Decimal(run["net_total"]) == Decimal(slip["net"])


async def test_income_tax_is_withheld_cumulatively_over_approved_months(compensation: Compensation) -> None:
    worker = await compensation.worker("chief", 18)  # 136,000: 7,933.33 a month
    for month in ("2026-01", "2026-02"):
        run = await compensation.run(month)
        assert (
            await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
        ).status_code == 200
    march = await compensation.run("2026-03")
    tax = [Decimal(lines(await compensation.payslip(r, worker))["income_tax"]) for r in [march["id"]]]
    # Each month: 7,933.33 − 8 % − 2 % − 0.5 % − 12 % (1,785.00) − 5,000 = 1,148.33 taxable; 3 % = 34.45 a month.
    assert tax == [Decimal("-34.45")]


async def test_recalculation_replaces_a_draft_approved_runs_never_change(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 5)
    run = await compensation.run("2026-05")
    await compensation.feed(
        {
            "type": "post.assigned",
            "data": {"worker_id": worker, "post": "staff", "grade": 6, "start_date": "2026-05-01"},
        }
    )
    again = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/calculate", headers=compensation.township)
    assert lines(await compensation.payslip(run["id"], worker))["base"] == "5600.00"  # grade 6 now, lines replaced
    assert again.json()["workers"] == 1
    approved = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
    assert approved.json()["approved_by"].startswith("user:")
    frozen = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/calculate", headers=compensation.township)
    assert frozen.status_code == 409
    second = await compensation.client.post(
        "/v1/payroll-runs", headers=compensation.township, json={"region_code": "330302001000", "month": "2026-05"}
    )
    twice = await compensation.client.post(
        f"/v1/payroll-runs/{second.json()['id']}/calculate", headers=compensation.township
    )
    assert twice.status_code == 409  # the month is paid once: the approved run holds it
    assert twice.json()["covering_runs"][0]["run_id"] == run["id"]
    paid = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/pay", headers=compensation.township)
    assert paid.json()["status"] == "paid"


async def test_a_missing_scale_cell_is_a_c4_problem_not_a_silent_zero(compensation: Compensation) -> None:
    await compensation.worker("staff", 3, start="2027-01-04")
    created = await compensation.client.post(
        "/v1/payroll-runs", headers=compensation.township, json={"region_code": "330302001000", "month": "2027-01"}
    )
    refused = await compensation.client.post(
        f"/v1/payroll-runs/{created.json()['id']}/calculate", headers=compensation.township
    )
    assert refused.status_code == 422
    assert refused.json()["rule"] == "C4"


async def test_a_worker_reads_only_their_own_payslips(compensation: Compensation) -> None:
    mine, theirs = await compensation.worker(), await compensation.worker()
    run = await compensation.run("2026-02")
    await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
    me = compensation.as_(("worker", "330302001001"), worker_id=mine)
    own = await compensation.client.get(f"/v1/workers/{mine}/payslips", headers=me)
    assert [s["month"] for s in own.json()] == ["2026-02"]
    assert (await compensation.client.get(f"/v1/workers/{theirs}/payslips", headers=me)).status_code == 404
    assert (await compensation.client.get(f"/v1/payroll-runs/{run['id']}", headers=me)).status_code == 403


async def test_a_back_dated_grade_change_becomes_an_adjustment_of_the_next_run(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)  # 5,075.00 a month
    unchanged = await compensation.worker("staff", 3)
    january = await compensation.run("2026-01")
    await compensation.client.post(f"/v1/payroll-runs/{january['id']}/approve", headers=compensation.township)
    # Decided in February, effective from 1 January: grade 4 (90,000 → 5,250.00 a month).
    await compensation.feed(
        {
            "type": "post.assigned",
            "data": {"worker_id": worker, "post": "staff", "grade": 4, "start_date": "2026-01-01"},
        }
    )
    february = await compensation.run("2026-02")
    feb = lines(await compensation.payslip(february["id"], worker))
    assert (feb["base"], feb["adjustment"]) == ("5250.00", "175.00")  # January's difference, paid now
    assert "adjustment" not in lines(await compensation.payslip(february["id"], unchanged))
    january_again = lines(await compensation.payslip(january["id"], worker))
    assert january_again["base"] == "5075.00"  # the approved run itself never changes
    await compensation.client.post(f"/v1/payroll-runs/{february['id']}/approve", headers=compensation.township)
    march = await compensation.run("2026-03")
    assert "adjustment" not in lines(await compensation.payslip(march["id"], worker))  # paid once, not again


async def test_the_person_who_calculated_a_run_does_not_approve_it(compensation: Compensation) -> None:
    """不相容职务分离 (separation of duties): who asked for a run's last calculation is kept (`calculated_by`) and
    refused the approval (403, both languages); another officer with the right approves; a calculation asked
    for again by that other officer makes them the one who may not approve."""
    await compensation.worker("staff", 3)
    preparer = compensation.township
    reviewer = compensation.county
    created = await compensation.client.post(
        "/v1/payroll-runs", headers=preparer, json={"region_code": "330302001000", "month": "2026-04"}
    )
    run = created.json()["id"]
    calculated = await compensation.client.post(f"/v1/payroll-runs/{run}/calculate", headers=preparer)
    assert calculated.status_code == 200, calculated.text
    who = calculated.json()["calculated_by"]
    assert who.startswith("user:")
    own = await compensation.client.post(f"/v1/payroll-runs/{run}/approve", headers=preparer)
    assert own.status_code == 403
    assert own.json()["detail"] == "本批次由您核算，须由另一位有权限的人员审批（不相容职务分离）"
    assert own.json()["rule"] == "AC5"
    english = await compensation.client.post(
        f"/v1/payroll-runs/{run}/approve", headers=preparer | {"Accept-Language": "en"}
    )
    assert "separation of duties" in english.json()["detail"]
    still = await compensation.client.get(f"/v1/payroll-runs/{run}", headers=reviewer)
    assert still.json()["status"] == "calculated"
    # the reviewer calculates it again: now the reviewer may not approve, the first officer may
    again = await compensation.client.post(f"/v1/payroll-runs/{run}/calculate", headers=reviewer)
    assert again.json()["calculated_by"] != who
    assert (await compensation.client.post(f"/v1/payroll-runs/{run}/approve", headers=reviewer)).status_code == 403
    approved = await compensation.client.post(f"/v1/payroll-runs/{run}/approve", headers=preparer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == who


async def test_one_officer_may_do_both_where_the_deployment_turns_separation_off(
    service_app: ServiceFactory, mint: Mint
) -> None:
    compensation = Compensation(await service_app("compensation", payroll_separate_approval=False), mint)
    await compensation.scale()
    await compensation.worker("staff", 3)
    officer = compensation.township
    created = await compensation.client.post(
        "/v1/payroll-runs", headers=officer, json={"region_code": "330302001000", "month": "2026-04"}
    )
    run = created.json()["id"]
    assert (await compensation.client.post(f"/v1/payroll-runs/{run}/calculate", headers=officer)).status_code == 200
    assert (await compensation.client.post(f"/v1/payroll-runs/{run}/approve", headers=officer)).status_code == 200
