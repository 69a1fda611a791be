"""C10 recuperation caps, C11 budget, C2/C3 compliance of actual pay."""

from __future__ import annotations

from decimal import Decimal

from services.compensation.projections import apply_quota
from services.compensation.tests.conftest import Compensation
from services.compensation.tests.test_bonus_api import graded


async def test_c10_recuperation_due_after_2_years_without_leave(compensation: Compensation) -> None:
    worker = await compensation.worker()
    taken = await compensation.client.post(
        "/v1/recuperation-claims",
        headers=compensation.township,
        json={"worker_id": worker, "start_date": "2026-04-01", "days": 4, "amount": "1600.00"},
    )
    assert taken.status_code == 201
    idle = await compensation.worker(start="2023-01-05")
    due = (
        await compensation.client.get(
            "/v1/reports/recuperation-due", headers=compensation.county, params={"region": "330302", "on": "2026-06-01"}
        )
    ).json()
    assert [r["worker_id"] for r in due] == [idle]  # no leave in 2 years (C10); the other took some in April


async def test_c11_budget_from_workforce_vacancies_and_scale(compensation: Compensation) -> None:
    for _ in range(3):
        await compensation.worker("staff", 4)  # 90,000 a year on the test scale
    async with compensation.service.app.state.sessionmaker() as session:
        await apply_quota(
            session, {"type": "quota.set", "data": {"county_code": "330302", "year": 2026, "headcount": 5}}
        )
        await session.commit()
    budget = (
        await compensation.client.get(
            "/v1/reports/budget", headers=compensation.county, params={"county": "330302", "year": 2026}
        )
    ).json()
    assert (budget["workers"], budget["vacancies"], budget["pay"], budget["vacancy_pay"]) == (
        3,
        2,
        "270000.00",
        "180000.00",
    )
    employer_rate = Decimal("0.16") + Decimal("0.095") + Decimal("0.005") + Decimal("0.002") + Decimal("0.12")
    assert Decimal(budget["employer_contributions"]) == (Decimal(450000) * employer_rate).quantize(Decimal("0.01"))


async def disposable_income(compensation: Compensation) -> None:
    """鹿城区's 2025 urban per-capita disposable income, 80,000 (C2: the 2026 target is 1.2 × it, 96,000)."""
    response = await compensation.client.put(
        "/v1/reference-statistics/330302/2025/urban_disposable_income",
        headers=compensation.county,
        json={"value": "80000.00", "source": "统计公报"},
    )
    assert response.status_code == 200, response.text


async def test_c2_actual_average_pay_against_the_target(compensation: Compensation) -> None:
    await disposable_income(compensation)
    await compensation.worker("staff", 3)  # 87,000 a year: 70 % paid monthly = 60,900 a year of base
    for month in ("2026-01", "2026-02"):
        run = await compensation.run(month)
        await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
    report = (
        await compensation.client.get(
            "/v1/reports/pay-compliance", headers=compensation.county, params={"region": "330302", "year": 2026}
        )
    ).json()
    assert report["average_annual_pay"] == "60900.00"  # 5,075 × 12; no bonus allocated
    assert report["findings"] == [{"rule": "C2", "post": "all", "expected": "96000.00", "actual": "60900.00"}]


async def test_c1_c5_pay_counts_the_bonus_paid_and_a_bonus_only_payslip_adds_no_worker_month(
    compensation: Compensation,
) -> None:
    """C1 average annual pay is what the year paid, the C5 bonus included; a leaver's payslip of the bonus alone
    adds money but no worker-month."""
    await disposable_income(compensation)
    stays = await compensation.worker("staff", 3, start="2025-01-05")
    left = await compensation.worker("staff", 3, start="2025-01-05", left="2025-12-31")
    await graded(compensation, [stays, left], ("competent", "competent"))
    allocated = await compensation.client.post(
        "/v1/bonus-allocations",
        headers=compensation.township,
        json={"township_code": "330302001000", "year": 2025, "pool": "2000.00"},
    )
    assert [s["share"] for s in allocated.json()["shares"]] == ["1000.00", "1000.00"]  # equal grades and months
    for month in ("2026-01", "2026-02"):
        run = await compensation.run(month)
        await compensation.client.post(f"/v1/payroll-runs/{run['id']}/approve", headers=compensation.township)
    report = (
        await compensation.client.get(
            "/v1/reports/pay-compliance", headers=compensation.county, params={"region": "330302", "year": 2026}
        )
    ).json()
    # 5,075 × 2 months of base + 1,000 + 1,000 of bonus over 2 worker-months (not 3), annualised × 12
    assert report["average_annual_pay"] == "72900.00"
