"""C9 as pure functions: the contribution base clamped to the year's floor (4,462) and cap (24,930), each
share to the cent, and what falls short."""

from decimal import Decimal

from services.compensation.domain.contributions import (
    clamped_base,
    contribution_wage,
    expected_contributions,
    shortfalls,
)
from services.compensation.domain.policy import PRESETS

D = Decimal
WENZHOU = PRESETS["wenzhou"]


def test_c9_base_clamped_to_the_years_floor_and_cap() -> None:
    assert clamped_base(D("3500.00"), WENZHOU) == D("4462")
    assert clamped_base(D("5075.00"), WENZHOU) == D("5075.00")
    assert clamped_base(D("26250.00"), WENZHOU) == D("24930")
    assert contribution_wage(D("5075.00"), D("400.00")) == D("5475.00")  # base wage + certificate allowance


def test_c9_both_shares_on_the_base_to_the_cent() -> None:
    due = expected_contributions(D("3500.00"), WENZHOU)
    assert due == {
        "pension": D("356.96"),  # 4,462 × 8 %
        "medical": D("89.24"),
        "unemployment": D("22.31"),
        "housing_fund": D("535.44"),
        "employer_pension": D("713.92"),
        "employer_medical": D("423.89"),
        "employer_unemployment": D("22.31"),
        "employer_injury": D("8.92"),
        "employer_housing_fund": D("535.44"),
    }


def test_c9_missing_or_short_contributions_are_found() -> None:
    due = expected_contributions(D("5075.00"), WENZHOU)
    paid = due | {"housing_fund": D(0), "employer_pension": due["employer_pension"] - D("0.01")}
    found = shortfalls(paid, due)
    assert [(s.column, s.missing) for s in found] == [("housing_fund", True), ("employer_pension", False)]
    assert shortfalls(due | {"pension": due["pension"] + 1}, due) == []  # more than due is no shortfall
