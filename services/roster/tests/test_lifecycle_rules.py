"""The lifecycle rules without a database: status as of a date (H4, H6, leaving, re-hiring), the ends
of periods at leaving, K3's first transfer date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.roster.domain.careers import probation_end
from services.roster.domain.lifecycle import (
    Employment,
    Secondment,
    cut_at_leaving,
    may_rehire,
    status_on,
    transfer_allowed_from,
)
from services.roster.domain.staffing_policy import GENERAL

HIRED = date(2026, 1, 5)
FIRST = Employment(HIRED, None, probation_end(HIRED, GENERAL))


def test_h4_probation_end_is_hire_plus_probation_months_and_inclusive() -> None:
    assert probation_end(HIRED, GENERAL) == date(2026, 7, 5)
    assert probation_end(HIRED, replace(GENERAL, probation_months=3)) == date(2026, 4, 5)  # a county's own parameter
    assert status_on([FIRST], [], date(2026, 1, 4)) == "pending"
    assert status_on([FIRST], [], HIRED) == "probation"
    assert status_on([FIRST], [], date(2026, 7, 5)) == "probation"  # the last day of probation
    assert status_on([FIRST], [], date(2026, 7, 6)) == "active"  # the day after the probation end


def test_h6_on_loan_for_the_loan_and_back_on_its_exclusive_end() -> None:
    loan = Secondment(date(2026, 3, 1), date(2026, 9, 1))
    assert status_on([FIRST], [loan], date(2026, 2, 28)) == "probation"
    assert status_on([FIRST], [loan], date(2026, 3, 1)) == "on_loan"  # even during probation
    assert status_on([FIRST], [loan], date(2026, 8, 31)) == "on_loan"
    assert status_on([FIRST], [loan], date(2026, 9, 1)) == "active"


def test_leave_date_is_the_last_day_and_a_rehire_starts_a_new_probation() -> None:
    ended = Employment(HIRED, date(2026, 3, 31), date(2026, 7, 5))
    again = Employment(date(2027, 2, 1), None, date(2027, 8, 1))
    loan_past_leaving = Secondment(date(2026, 3, 1), date(2026, 6, 1))
    assert status_on([ended], [loan_past_leaving], date(2026, 3, 31)) == "on_loan"
    assert status_on([ended], [loan_past_leaving], date(2026, 4, 1)) == "left"  # leaving outranks a loan
    assert status_on([ended, again], [], date(2027, 1, 31)) == "left"
    assert status_on([ended, again], [], date(2027, 2, 1)) == "probation"
    assert status_on([ended, again], [], date(2027, 8, 2)) == "active"


def test_rehire_only_after_the_last_employment_ended() -> None:
    ended = Employment(HIRED, date(2026, 3, 31), date(2026, 7, 5))
    assert may_rehire([ended], date(2026, 4, 1))
    assert not may_rehire([ended], date(2026, 3, 31))  # still employed that day
    assert not may_rehire([FIRST], date(2030, 1, 1))  # never left


def test_leaving_ends_running_periods_from_the_next_day() -> None:
    left = date(2026, 6, 15)
    assert cut_at_leaving(date(2026, 1, 5), None, left) == date(2026, 6, 16)
    assert cut_at_leaving(date(2026, 1, 5), date(2027, 1, 5), left) == date(2026, 6, 16)
    assert cut_at_leaving(date(2026, 6, 15), None, left) == date(2026, 6, 16)  # started on the last day
    assert cut_at_leaving(date(2025, 1, 5), date(2026, 1, 5), left) is None  # over already
    assert cut_at_leaving(date(2025, 1, 5), date(2026, 6, 16), left) is None
    with pytest.raises(ValueError, match="after the leave date"):
        cut_at_leaving(date(2026, 6, 16), None, left)


def test_k3_three_years_after_taking_a_career_staff_post() -> None:
    assert transfer_allowed_from(None, 3) is None
    assert transfer_allowed_from(date(2025, 1, 1), 3) == date(2028, 1, 1)
