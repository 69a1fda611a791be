"""A worker's yearly and monthly duties (E5–E7), as pure rules with the documents' numbers: 40 hours of
centralised training a year (E5), one reviewed work case a year (E6), half of the working time visiting
residents (E7), each must-visit household visited within the county's number of days."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from shared.policy_rules import decides

HOUR = Decimal(3600)
TRAINING_HOURS = Decimal(40)  # E5, when the county's scheme sets no other figure
VISIT_SHARE = Decimal("0.5")  # E7
MONTHLY_WORKING_HOURS = Decimal(174)  # E7's denominator, when the scheme sets no other figure
MUST_VISIT_DAYS = 30  # E7 六必访, when the scheme sets no other figure


@decides("E5")
def training_short(hours: Decimal, required: Decimal = TRAINING_HOURS) -> bool:
    """E5: fewer hours of centralised training in the year than required."""
    return hours < required


@decides("E6")
def case_missing(case_status: str | None) -> bool:
    """E6: the year's work case is missing or not yet approved by the township."""
    return case_status != "approved"


@decides("E7")
def visit_share(
    visit_seconds: Decimal, working_hours: Decimal = MONTHLY_WORKING_HOURS, required: Decimal = VISIT_SHARE
) -> tuple[Decimal, Decimal, bool]:
    """E7: (visit hours to 0.1, share of the month's working hours to 0.001, whether it falls short)."""
    hours = (visit_seconds / HOUR).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    share = (hours / working_hours).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return hours, share, share < required


def must_visit_due(since: date, days: int = MUST_VISIT_DAYS) -> date:
    """E7 六必访: the last day by which a household registered on ``since`` is visited."""
    return since + timedelta(days=days)
