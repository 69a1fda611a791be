"""Working age: the 2025 gradual retirement-age schedule at its edges, 18 at the lower end."""

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from services.roster.domain.working_age import (
    RetirementTrack,
    birth_date_problem,
    retirement_age,
    retirement_date,
    working_age_problem,
)

M, F55, F50 = RetirementTrack.male, RetirementTrack.female_cadre, RetirementTrack.female_worker


@pytest.mark.parametrize(
    ("birth", "track", "years", "months"),
    [
        (date(1964, 12, 31), M, 60, 0),  # before the schedule
        (date(1965, 1, 1), M, 60, 1),  # first month: +1
        (date(1965, 4, 30), M, 60, 1),  # 4 months of birth per month of delay
        (date(1965, 5, 1), M, 60, 2),
        (date(1976, 8, 31), M, 62, 11),
        (date(1976, 9, 1), M, 63, 0),  # men reach 63 from 1976-09
        (date(1990, 1, 1), M, 63, 0),
        (date(1969, 12, 31), F55, 55, 0),
        (date(1970, 1, 1), F55, 55, 1),
        (date(1970, 5, 1), F55, 55, 2),
        (date(1981, 8, 1), F55, 57, 11),
        (date(1981, 9, 1), F55, 58, 0),  # women cadres reach 58 from 1981-09
        (date(1974, 12, 1), F50, 50, 0),
        (date(1975, 1, 1), F50, 50, 1),
        (date(1975, 3, 1), F50, 50, 2),  # 2 months of birth per month of delay
        (date(1984, 10, 1), F50, 54, 11),
        (date(1984, 11, 1), F50, 55, 0),  # women workers reach 55 from 1984-11
    ],
)
def test_retirement_age_follows_the_2025_schedule(birth: date, track: RetirementTrack, years: int, months: int) -> None:
    assert retirement_age(birth, track) == relativedelta(years=years, months=months)


def test_retirement_date_of_the_first_men_under_the_reform() -> None:
    assert retirement_date(date(1965, 1, 15), M) == date(2025, 2, 15)  # 60 years 1 month


def test_working_age_on_the_hire_date() -> None:
    assert working_age_problem(date(2008, 3, 1), "male", date(2026, 2, 28)) is not None  # 17
    assert working_age_problem(date(2008, 3, 1), "male", date(2026, 3, 1)) is None  # 18 that day
    assert working_age_problem(date(2008, 2, 29), "female", date(2026, 2, 28)) is not None  # leap-day birth
    assert working_age_problem(date(2008, 2, 29), "female", date(2026, 3, 1)) is None
    # A woman born 1971-03-10 (the 15th month of the women-55 schedule): 55 years 4 months → 2026-07-10.
    assert working_age_problem(date(1971, 3, 10), "female", date(2026, 7, 9)) is None
    assert working_age_problem(date(1971, 3, 10), "female", date(2026, 7, 10)) is not None
    assert working_age_problem(date(1966, 1, 1), "male", date(2026, 3, 31)) is None  # 60y4m → 2026-05-01
    assert working_age_problem(date(1966, 1, 1), "male", date(2026, 5, 1)) is not None


def test_birth_dates_in_the_future_or_before_1900_are_refused() -> None:
    today = date(2026, 1, 5)
    assert birth_date_problem(date(2026, 1, 6), today) is not None
    assert birth_date_problem(date(1899, 12, 31), today) is not None
    assert birth_date_problem(date(1900, 1, 1), today) is None
