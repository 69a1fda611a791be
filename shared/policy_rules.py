"""Policy rules that more than one service applies, each in one place (pure, no I/O).

H8: two consecutive annual assessments of 不合格 end the contract. The evaluation service raises
``assessment.second_incompetent`` when a closing or an appeal makes it so; the roster bars the renewal.
Both ask ``consecutive_incompetent``.
"""

from __future__ import annotations

from collections.abc import Mapping

INCOMPETENT = "incompetent"  # 不合格 (E3)
H8_YEARS = 2  # consecutive 不合格 years that end the contract (the roster's `incompetent_years_to_end` default)


def consecutive_incompetent(grades: Mapping[int, str], last_year: int, years: int = H8_YEARS) -> bool:
    """H8: the ``years`` annual grades up to and including ``last_year`` are all 不合格."""
    return years > 0 and all(grades.get(last_year - n) == INCOMPETENT for n in range(years))
