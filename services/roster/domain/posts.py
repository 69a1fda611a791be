"""Post rules that hold at every date (P2 one chief, a second only with approval; P3 at most two
deputies) and a worker's one post at a time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

Period = tuple[date, date | None]  # [start, end), end None = open


def overlaps(a: Period, b: Period) -> bool:
    a_start, a_end = a
    b_start, b_end = b
    return (b_end is None or a_start < b_end) and (a_end is None or b_start < a_end)


def max_concurrent(existing: Iterable[Period], new: Period) -> int:
    """The most periods of ``existing`` that hold together on any day of ``new``."""
    relevant = [p for p in existing if overlaps(p, new)]
    if not relevant:
        return 0
    new_start, new_end = new
    # The count can only rise at a start; check at each start inside the new period (and at its start).
    points = {new_start} | {s for s, _ in relevant if s >= new_start and (new_end is None or s < new_end)}
    best = 0
    for day in points:
        held = sum(1 for s, e in relevant if s <= day and (e is None or day < e))
        best = max(best, held)
    return best


# Grade ranges per post (三岗十八级 practice: chief 7–18, deputy 4–15, staff 1–12): policy parameters.
GRADE_RANGES = {"chief": (7, 18), "deputy": (4, 15), "staff": (1, 12)}
