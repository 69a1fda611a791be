"""Pure rules of the annual reports: C11 budget arithmetic, C4 missing cells, C2/C3 shortfalls."""

from __future__ import annotations

from decimal import Decimal

from services.compensation.domain.budget import missing_cells, pay_budget
from services.compensation.domain.targets import annualised, pay_shortfalls

D = Decimal
CELLS = {("chief", 10): D("90000.00"), ("staff", 3): D("60000.00")}


def test_c11_budget_adds_pay_c8_allowances_s5_vacancies_and_c9_employer_parts() -> None:
    # Two workers in post, a quota of 4: two vacancies at the average of the two (75,000 each).
    # C8 Wenzhou: 600 a month for a senior social worker. C9: employer rates summing to 0.30.
    held = [("chief", 10, "senior"), ("staff", 3, None)]
    budget = pay_budget(CELLS, held, 4, {"senior": D("600")}, {"pension": D("0.16"), "housing_fund": D("0.14")})
    assert (budget.workers, budget.vacancies) == (2, 2)
    assert budget.pay == D("150000.00")
    assert budget.certificate_allowances == D("7200.00")
    assert budget.vacancy_pay == D("150000.00")
    assert budget.employer_contributions == D("92160.00")  # (150,000 + 7,200 + 150,000) × 0.30
    assert budget.total == D("399360.00")


def test_c11_no_quota_means_no_vacancies_and_an_empty_county_budgets_the_scale_average() -> None:
    assert pay_budget(CELLS, [("staff", 3, None)], None, {}, {}).vacancies == 0
    empty = pay_budget(CELLS, [], 2, {}, {})
    assert (empty.vacancies, empty.vacancy_pay, empty.total) == (2, D("150000.00"), D("150000.00"))


def test_c4_cells_held_but_not_on_the_scale_are_named() -> None:
    assert missing_cells(CELLS, [("staff", 3), ("deputy", 7), ("deputy", 7)]) == [("deputy", 7)]


def test_c1_average_annual_pay_is_annualised_from_worker_months() -> None:
    assert annualised(D("30000"), 6) == D("60000.00")
    assert annualised(D("0"), 0) == D("0")


def test_c3_taizhou_floor_and_c2_wenzhou_target_shortfalls_name_their_rule() -> None:
    # C3: chief ≥ 1.3 × 100,000 average wage; staff ≥ 1.0 ×.
    floors = {"chief": D("130000.00"), "staff": D("100000.00")}
    found = pay_shortfalls({"chief": D("129999.99"), "staff": D("100000.00")}, None, None, floors)
    assert found == [("C3", "chief", D("130000.00"), D("129999.99"))]
    # C2: 1.2 × 60,000 disposable income = 72,000.
    assert pay_shortfalls({}, D("71000.00"), D("72000.00"), None) == [("C2", "all", D("72000.00"), D("71000.00"))]
    assert pay_shortfalls({}, D("72000.00"), D("72000.00"), None) == []
    assert pay_shortfalls({}, None, D("72000.00"), None) == []  # nothing paid: nothing to judge
