"""E5–E7 as pure rules, with the documents' numbers (温州 二（六）: 5 days / 40 class hours of training a year,
one work case a year; 50 % of working time visiting residents)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.evaluation.domain.duties import case_missing, must_visit_due, training_short, visit_share

D = Decimal


def test_e5_forty_class_hours_a_year() -> None:
    assert training_short(D("39.5"))
    assert not training_short(D("40"))
    assert not training_short(D("30"), required=D("30"))  # a county's own figure


def test_e6_one_approved_work_case_a_year() -> None:
    assert case_missing(None)
    assert case_missing("submitted")
    assert not case_missing("approved")


def test_e7_half_of_the_working_time_visiting() -> None:
    # 87 hours of visits in a month of 174 working hours is exactly half: not short.
    assert visit_share(D(87 * 3600)) == (D("87.0"), D("0.500"), False)
    hours, share, short = visit_share(D(86 * 3600 + 1800))  # 86.5 hours
    assert (hours, share, short) == (D("86.5"), D("0.497"), True)
    assert visit_share(D(0), D(160), D("0.4")) == (D("0.0"), D("0.000"), True)


def test_e7_must_visit_households_within_the_countys_days() -> None:
    assert must_visit_due(date(2026, 3, 1)) == date(2026, 3, 31)
    assert must_visit_due(date(2026, 3, 1), 7) == date(2026, 3, 8)
