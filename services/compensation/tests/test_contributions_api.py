"""C9: social insurance and the housing fund are paid in full for every worker — each payslip carries the
worker's and the employer's shares on the month's wage clamped to the year's floor (4,462) and cap (24,930),
and the report lists any worker-month of an approved or paid run where they are missing or short."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import update

from services.compensation.models import Payslip
from services.compensation.tests.conftest import Compensation, lines

D = Decimal
FLOOR, CAP = D("4462"), D("24930")  # 浙江 contribution base floor and cap (the preset's figures, C9)
WORKER = {"pension": D("0.08"), "medical": D("0.02"), "unemployment": D("0.005"), "housing_fund": D("0.12")}
EMPLOYER = {
    "employer_pension": D("0.16"),
    "employer_medical": D("0.095"),
    "employer_unemployment": D("0.005"),
    "employer_injury": D("0.002"),
    "employer_housing_fund": D("0.12"),
}
REPORT = "/v1/reports/contributions"


def due(base: Decimal, rate: Decimal) -> str:
    return str((base * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP))


async def three_workers_paid_in_january(compensation: Compensation) -> tuple[dict[str, Decimal], str]:
    """A worker below the floor, one within, one above the cap; January approved. Worker → contribution base."""
    cells = [
        {"post": "staff", "grade": 1, "annual_amount": "60000.00"},  # × 70 % ÷ 12 = 3,500 a month < 4,462
        {"post": "chief", "grade": 18, "annual_amount": "450000.00"},  # 26,250 a month > 24,930
    ]
    scale = await compensation.client.put(
        "/v1/pay-scales/330302/2026", headers=compensation.county, json={"cells": cells}
    )
    assert scale.status_code == 200
    low = await compensation.worker("staff", 1)
    mid = await compensation.worker("staff", 3)  # 87,000 × 70 % ÷ 12 = 5,075
    high = await compensation.worker("chief", 18)
    run = await compensation.run("2026-01")
    approved = await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
    assert approved.status_code == 200, approved.text
    return {low: FLOOR, mid: D("5075.00"), high: CAP}, run["id"]


async def test_c9_each_payslip_carries_both_shares_on_the_clamped_base(compensation: Compensation) -> None:
    bases, run_id = await three_workers_paid_in_january(compensation)
    for worker, base in bases.items():
        slip = lines(await compensation.payslip(run_id, worker))
        for kind, rate in WORKER.items():
            assert slip[kind] == "-" + due(base, rate), (kind, base)  # the worker's share, deducted
        for kind, rate in EMPLOYER.items():
            assert slip[kind] == due(base, rate), (kind, base)  # the employer's share, apart (C1)
    floor_slip = lines(await compensation.payslip(run_id, next(iter(bases))))
    assert (floor_slip["pension"], floor_slip["employer_injury"]) == ("-356.96", "8.92")  # 4,462 × 8 %, × 0.2 %


async def test_c9_report_lists_worker_months_missing_or_below_the_clamped_base(compensation: Compensation) -> None:
    bases, run_id = await three_workers_paid_in_january(compensation)
    params = {"region_code": "330302", "month": "2026-01"}
    clean = (await compensation.client.get(REPORT, headers=compensation.county, params=params)).json()
    assert (clean["rule"], clean["payslips_checked"], clean["findings"]) == ("C9", 3, [])
    low, mid, _ = bases
    async with compensation.service.app.state.sessionmaker() as session:  # a defective row, e.g. an old import
        await session.execute(
            update(Payslip)
            .where(Payslip.run_id == run_id, Payslip.worker_id == low)
            .values(employer_housing_fund=0, pension=Payslip.pension - D("0.01"))
        )
        await session.commit()
    report = (await compensation.client.get(REPORT, headers=compensation.county, params=params)).json()
    (finding,) = report["findings"]
    assert (finding["worker_id"], finding["wage"], finding["contribution_base"]) == (low, "3500.00", "4462.00")
    assert (finding["run_status"], finding["rule"]) == ("approved", "C9")
    assert finding["shortfalls"] == [
        {"kind": "pension", "expected": "356.96", "actual": "356.95", "missing": False},
        {"kind": "employer_housing_fund", "expected": "535.44", "actual": "0.00", "missing": True},
    ]
    assert mid not in {f["worker_id"] for f in report["findings"]}


async def test_c9_report_reads_only_approved_and_paid_runs_in_the_callers_region(compensation: Compensation) -> None:
    worker = await compensation.worker("staff", 3)
    draft = await compensation.run("2026-02")  # calculated, not approved
    async with compensation.service.app.state.sessionmaker() as session:
        await session.execute(update(Payslip).where(Payslip.worker_id == worker).values(housing_fund=0))
        await session.commit()
    report = await compensation.client.get(
        REPORT, headers=compensation.county, params={"region_code": "330302", "month": "2026-02"}
    )
    assert (report.json()["payslips_checked"], report.json()["findings"]) == (0, [])
    assert draft["status"] == "calculated"
    elsewhere = await compensation.client.get(
        REPORT, headers=compensation.county, params={"region_code": "330303", "month": "2026-02"}
    )
    assert elsewhere.status_code == 404
