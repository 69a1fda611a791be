"""H2–H8 and K1/K2 as pure functions, with the documents' numbers."""

from datetime import date

from services.roster.domain.careers import (
    career_eligible,
    consecutive_chief_years,
    contract_end,
    may_transfer,
    probation_end,
    renewal_bars,
    reserve_capacity,
    secondment_problem,
)
from services.roster.domain.staffing_policy import GENERAL, PRESETS


def test_h3_one_year_contracts_and_h4_six_month_probation() -> None:
    assert contract_end(date(2026, 1, 5), GENERAL) == date(2027, 1, 5)
    assert probation_end(date(2026, 1, 5), GENERAL) == date(2026, 7, 5)
    assert probation_end(date(2026, 8, 31), GENERAL) == date(2027, 2, 28)  # month ends clip


def test_h2_reserve_pool_at_most_one_to_one() -> None:
    assert reserve_capacity(12, GENERAL) == 12


def test_h5_transfer_after_two_years() -> None:
    assert not may_transfer(date(2024, 3, 1), date(2026, 2, 28), GENERAL)
    assert may_transfer(date(2024, 3, 1), date(2026, 3, 1), GENERAL)


def test_h6_loan_six_months_with_approval_practice_one_year() -> None:
    assert secondment_problem("loan", date(2026, 1, 1), date(2026, 7, 1), "县委组织部批复", GENERAL) is None
    too_long = secondment_problem("loan", date(2026, 1, 1), date(2026, 7, 2), "批复", GENERAL)
    assert too_long is not None
    assert too_long.rule == "H6"
    unapproved = secondment_problem("loan", date(2026, 1, 1), date(2026, 2, 1), None, GENERAL)
    assert unapproved is not None
    assert unapproved.rule == "H6"
    assert secondment_problem("practice", date(2026, 1, 1), date(2027, 1, 1), None, GENERAL) is None
    assert secondment_problem("practice", date(2026, 1, 1), date(2027, 1, 2), None, GENERAL) is not None


def test_h7_no_certificate_three_years_after_hire_is_not_renewed() -> None:
    bars = renewal_bars(
        hire_date=date(2023, 1, 5), certificate_date=None, renewal_date=date(2026, 1, 5), grades={}, policy=GENERAL
    )
    assert [b.rule for b in bars] == ["H7"]
    in_time = renewal_bars(
        hire_date=date(2023, 1, 5),
        certificate_date=date(2025, 6, 1),
        renewal_date=date(2026, 1, 5),
        grades={},
        policy=GENERAL,
    )
    assert in_time == []
    early = renewal_bars(
        hire_date=date(2024, 1, 5), certificate_date=None, renewal_date=date(2026, 1, 5), grades={}, policy=GENERAL
    )
    assert early == []  # not yet 3 years


def test_h8_two_consecutive_incompetent_years_end_the_contract() -> None:
    common = {
        "hire_date": date(2025, 1, 5),
        "certificate_date": None,
        "renewal_date": date(2027, 1, 5),
        "policy": GENERAL,
    }
    assert [b.rule for b in renewal_bars(grades={2025: "incompetent", 2026: "incompetent"}, **common)] == ["H8"]  # type: ignore[arg-type]
    assert renewal_bars(grades={2025: "incompetent", 2026: "basically_competent"}, **common) == []  # type: ignore[arg-type]


def test_k1_six_years_wenzhou_k2_five_years_taizhou() -> None:
    stretch = [(date(2020, 1, 1), date(2023, 1, 1)), (date(2023, 1, 1), None)]  # re-appointed without a break
    assert 5.9 < consecutive_chief_years(stretch, date(2025, 12, 31)) < 6.0
    assert not career_eligible(stretch, date(2025, 12, 31), PRESETS["wenzhou"])
    assert career_eligible(stretch, date(2025, 12, 31), PRESETS["taizhou"])
    assert career_eligible(stretch, date(2026, 1, 1), PRESETS["wenzhou"])
    broken = [(date(2018, 1, 1), date(2021, 1, 1)), (date(2021, 6, 1), None)]
    assert consecutive_chief_years(broken, date(2026, 1, 1)) < 5
    ended = [(date(2015, 1, 1), date(2025, 1, 1))]
    assert consecutive_chief_years(ended, date(2026, 1, 1)) == 0.0  # no longer chief
