"""Post rules that hold at every date (P2 one chief, a second only with approval; P3 at most two
deputies) and a worker's one post at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from shared.policy_rules import decides
from shared.vocabulary import GRADE_RANGES

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


@dataclass(frozen=True)
class Violation:
    """A rule a post assignment breaks: the field to name, both messages and the rule id."""

    field: str
    zh: str
    en: str
    rule: str | None = None


@decides("C4")
def grade_violation(post: str, grade: int) -> Violation | None:
    """C4: the grade lies in the post's range of 三岗十八级."""
    low, high = GRADE_RANGES[post]
    if low <= grade <= high:
        return None
    return Violation("grade", f"{post} 的等级应为 {low}–{high}", f"a {post} is graded {low}–{high}", "C4")


@decides("P2", "P3")
def holders_violation(
    post: str, together: int, approved: bool, max_chiefs_with_approval: int, max_deputies: int
) -> Violation | None:
    """P2: one chief per community, a second only with the county's approval, never more than the policy
    allows; P3: at most ``max_deputies`` deputies. ``together``: others holding the post on some day."""
    if post == "chief":
        if together >= 1 and not approved:
            return Violation(
                "approval",
                "社区已有正职；第二名正职须经县委组织部、民政局审批",
                "the community has a chief; a second needs the county's approval",
                "P2",
            )
        if together >= max_chiefs_with_approval:
            return Violation(
                "post",
                f"正职不得超过 {max_chiefs_with_approval} 名",
                f"at most {max_chiefs_with_approval} chiefs",
                "P2",
            )
    if post == "deputy" and together >= max_deputies:
        return Violation("post", f"副职不得超过 {max_deputies} 名", f"at most {max_deputies} deputies", "P3")
    return None
