"""A worker's lifecycle as of a date (H4 probation, H6 loans and practice postings, leaving and re-hiring,
K3 career-staff stay), as pure functions: the status is *derived* from dated records, never set by hand.

How each date range ends (the one reading used by every read, report, check and event):

- hire date: the first day employed.
- probation end (H4): **inclusive**, the last day of probation; ``active`` from the next day.
- leave date: **inclusive**, the last day worked and paid (C6); ``left`` from the next day.
- post end, contract end, loan / practice-posting end: **exclusive**, the first day *not* covered
  (half-open ``[start, end)``: the next post or renewal starts on that very day).

So leaving on day L ends open posts and contracts with end = L + 1, and the services that pay from
these dates count L itself as worked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from shared.policy_rules import decides

PENDING = "pending"
PROBATION = "probation"
ACTIVE = "active"
ON_LOAN = "on_loan"
LEFT = "left"


@dataclass(frozen=True)
class Employment:
    """One period of employment: ``left_date`` and ``probation_end`` are inclusive, None while open."""

    hire_date: date
    left_date: date | None
    probation_end: date

    def covers(self, day: date) -> bool:
        return self.hire_date <= day and (self.left_date is None or day <= self.left_date)


@dataclass(frozen=True)
class Secondment:
    """A loan (借用) or practice posting (跟岗锻炼): ``[start, end)``, the end exclusive (H6)."""

    start: date
    end: date

    def covers(self, day: date) -> bool:
        return self.start <= day < self.end


def status_on(employments: Iterable[Employment], secondments: Iterable[Secondment], day: date) -> str:
    """The worker's status on ``day``, in this order:

    ``pending`` before the first hire date; ``left`` outside every employment (after a leave date,
    before a re-hire); ``on_loan`` during a loan or practice posting (H6); ``probation`` up to and
    including the probation end (H4); else ``active``.
    """
    periods = list(employments)
    if not any(e.hire_date <= day for e in periods):
        return PENDING
    current = next((e for e in periods if e.covers(day)), None)
    if current is None:
        return LEFT
    if any(s.covers(day) for s in secondments):
        return ON_LOAN
    if day <= current.probation_end:
        return PROBATION
    return ACTIVE


def latest(employments: Sequence[Employment]) -> Employment:
    """The most recent employment (by hire date)."""
    return max(employments, key=lambda e: e.hire_date)


def may_rehire(employments: Sequence[Employment], hire_date: date) -> bool:
    """Re-hiring keeps the one person record: allowed when the last employment ended before ``hire_date``."""
    last = latest(employments)
    return last.left_date is not None and last.left_date < hire_date


def end_after_leaving(left_date: date) -> date:
    """The exclusive end of posts and contracts open on the leave date: the day after it."""
    return left_date + timedelta(days=1)


def cut_at_leaving(start: date, end: date | None, left_date: date) -> date | None:
    """The new exclusive end of a ``[start, end)`` period when the worker leaves on ``left_date``.

    None when the period is untouched (it ended by then). Raises ``ValueError`` for a period that only
    starts after the leave date: it cannot be shortened to nothing, it has to be corrected first.
    """
    stop = end_after_leaving(left_date)
    if end is not None and end <= stop:
        return None
    if start >= stop:
        raise ValueError("starts after the leave date")
    return stop


@decides("K3")
def transfer_allowed_from(career_staff_date: date | None, min_years: int) -> date | None:
    """K3: a worker who took a career-staff (事业编制) post stays ``min_years`` (3) in the community post
    before a transfer; the first day a transfer may take effect, None when K3 does not apply."""
    if career_staff_date is None:
        return None
    return career_staff_date + relativedelta(years=min_years)
