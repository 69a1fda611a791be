"""C2/C3 targets, C5 bonus shares and the income-tax table as pure functions, with the documents' numbers."""

from dataclasses import replace
from decimal import Decimal

import pytest

from services.compensation.domain.bonus import Claim, share_pool
from services.compensation.domain.income_tax import cumulative_tax
from services.compensation.domain.policy import PRESETS
from services.compensation.domain.targets import TargetError, taizhou_floors, wenzhou_target

D = Decimal
WENZHOU, TAIZHOU = PRESETS["wenzhou"], PRESETS["taizhou"]


def test_c2_wenzhou_target_is_1_2_times_disposable_income() -> None:
    assert wenzhou_target(WENZHOU, D("69678"), None) == D("83613.60")  # 1.2 × 69,678


def test_c2_raised_to_last_years_actual_average_where_higher() -> None:
    assert wenzhou_target(WENZHOU, D("69678"), D("90000")) == D("90000.00")
    assert wenzhou_target(WENZHOU, D("69678"), D("80000")) == D("83613.60")


def test_c2_multiplier_between_1_2_and_1_8() -> None:
    assert wenzhou_target(replace(WENZHOU, multiplier=D("1.8")), D("50000"), None) == D("90000.00")
    with pytest.raises(TargetError, match=r"outside 1\.2"):
        wenzhou_target(replace(WENZHOU, multiplier=D("1.9")), D("50000"), None)


def test_c3_taizhou_floors_per_post() -> None:
    # The Taizhou reply's 2020 figure of 69,900 yuan used as last year's average wage.
    assert taizhou_floors(TAIZHOU, D("69900")) == {
        "chief": D("90870.00"),
        "deputy": D("76890.00"),
        "staff": D("69900.00"),
    }


def test_c5_shares_add_up_to_the_pool_to_the_cent() -> None:
    coefficients = {
        "excellent": D("1.2"),
        "competent": D("1.0"),
        "basically_competent": D("0.8"),
        "incompetent": D("0"),
    }
    claims = [
        Claim(f"w{n}", grade, D(12))
        for n, grade in enumerate(
            ["excellent", "competent", "competent", "basically_competent", "incompetent", "competent", "excellent"]
        )
    ]
    shares = share_pool(D("100000.00"), claims, coefficients)
    assert sum(shares.values()) == D("100000.00")
    assert shares["w4"] == D("0.00")  # 不合格 gets the coefficient the policy sets: here 0
    assert shares["w0"] == shares["w6"] > shares["w1"] > shares["w3"]
    odd = share_pool(D("100.00"), [Claim(w, "competent", D(12)) for w in "abc"], coefficients)
    assert sorted(odd.values()) == [D("33.33"), D("33.33"), D("33.34")]  # largest remainder, ties by id
    part_year = share_pool(D("300.00"), [Claim("a", "competent", D(12)), Claim("b", "competent", D(6))], coefficients)
    assert part_year == {"a": D("200.00"), "b": D("100.00")}


@pytest.mark.parametrize(
    ("taxable", "tax"),
    [("0", "0.00"), ("36000", "1080.00"), ("50000", "2480.00"), ("200000", "23080.00"), ("1000000", "268080.00")],
)
def test_cumulative_withholding_table(taxable: str, tax: str) -> None:
    assert cumulative_tax(D(taxable)) == D(tax)
