"""C10 caps as a pure function, with the policy's numbers: 400 yuan a day, 5 days, 2,000 yuan a year."""

from dataclasses import replace
from decimal import Decimal

from services.compensation.domain.policy import PRESETS
from services.compensation.domain.recuperation import Assessment, Refusal, assess_claim, year_left

D = Decimal
WENZHOU = PRESETS["wenzhou"]


def test_c10_within_the_caps_is_allowed_as_asked() -> None:
    assert assess_claim(WENZHOU, 5, D("2000.00"), D(0)) == Assessment(D("2000.00"), D("2000.00"), ())


def test_c10_above_400_a_day_is_allowed_at_400_a_day() -> None:
    outcome = assess_claim(WENZHOU, 3, D("1201.00"), D(0))
    assert isinstance(outcome, Assessment)
    assert (outcome.requested, outcome.allowed) == (D("1201.00"), D("1200.00"))
    assert [r.code for r in outcome.reductions] == ["per_day_cap"]


def test_c10_beyond_the_years_2000_is_allowed_up_to_what_is_left() -> None:
    outcome = assess_claim(WENZHOU, 2, D("500.00"), D("1600.00"))
    assert isinstance(outcome, Assessment)
    assert outcome.allowed == D("400.00")
    assert [r.code for r in outcome.reductions] == ["year_allowance"]


def test_c10_both_caps_apply_in_turn_exact_to_the_cent() -> None:
    outcome = assess_claim(WENZHOU, 2, D("999.99"), D("1266.67"))
    assert isinstance(outcome, Assessment)
    assert outcome.allowed == D("733.33")  # 800 a day-capped, then 2,000 − 1,266.67 left
    assert [r.code for r in outcome.reductions] == ["per_day_cap", "year_allowance"]


def test_c10_more_than_5_days_or_nothing_left_is_refused() -> None:
    days = assess_claim(WENZHOU, 6, D("100.00"), D(0))
    assert isinstance(days, Refusal)
    assert (days.field, days.rule) == ("days", "C10")
    used_up = assess_claim(WENZHOU, 1, D("100.00"), D("2000.00"))
    assert isinstance(used_up, Refusal)
    assert (used_up.field, used_up.code) == ("amount", "year_allowance_used")


def test_c10_caps_are_the_countys_parameters() -> None:
    county = replace(WENZHOU, recuperation_per_day=D(300), recuperation_per_year=D(1500))
    outcome = assess_claim(county, 2, D("700.00"), D(0))
    assert isinstance(outcome, Assessment)
    assert outcome.allowed == D("600.00")
    assert year_left(county, D("1600")) == D("0.00")
