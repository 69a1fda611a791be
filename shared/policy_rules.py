"""Where each policy rule is decided, and the rules that more than one service applies (pure, no I/O).

``@decides("S1", …)`` marks the one function (or, for a fixed vocabulary, the one enum) that decides each
rule id; the rule index (``docs/rule-index.md``) names it first for every rule, and a test fails when a
rule has no such function or more than one.

H8: two consecutive annual assessments of 不合格 end the contract. The evaluation service raises
``assessment.second_incompetent`` when a closing or an appeal makes it so; the roster bars the renewal.
Both ask ``consecutive_incompetent``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

Decider = TypeVar("Decider", bound=Callable[..., object])

INCOMPETENT = "incompetent"  # 不合格 (E3)
H8_YEARS = 2  # consecutive 不合格 years that end the contract (the roster's `incompetent_years_to_end` default)


def decides(*rules: str) -> Callable[[Decider], Decider]:
    """Marks the function or class that decides ``rules`` (read by ``shared.rule_index``; no effect at run time)."""

    def mark(target: Decider) -> Decider:
        return target

    return mark


@decides("H8")
def consecutive_incompetent(grades: Mapping[int, str], last_year: int, years: int = H8_YEARS) -> bool:
    """H8: the ``years`` annual grades up to and including ``last_year`` are all 不合格."""
    return years > 0 and all(grades.get(last_year - n) == INCOMPETENT for n in range(years))
