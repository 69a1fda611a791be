"""Grade step-up (C7): after ``grade_step_years`` (3) years in a grade with every annual assessment of
those years 优秀 or 合格, the worker moves up one grade, from 1 January; the post bounds the grade."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.policy_rules import decides
from shared.vocabulary import GRADE_RANGES

QUALIFYING = frozenset({"excellent", "competent"})


@dataclass(frozen=True)
class StepUp:
    worker_id: str
    post: str
    grade: int
    new_grade: int | None
    years: list[int]  # the assessment years that allowed it (or were examined)
    reason: str


@decides("C7")
def decide(
    worker_id: str,
    post: str,
    grade: int,
    in_grade_since: date,
    effective: date,
    grades: dict[int, str],
    step_years: int,
) -> StepUp:
    years = list(range(effective.year - step_years, effective.year))
    if in_grade_since > date(effective.year - step_years, 1, 1):
        return StepUp(worker_id, post, grade, None, years, f"fewer than {step_years} years in grade {grade}")
    missing = [y for y in years if y not in grades]
    if missing:
        return StepUp(worker_id, post, grade, None, years, f"no assessment for {missing}")
    failing = [y for y in years if grades[y] not in QUALIFYING]
    if failing:
        return StepUp(worker_id, post, grade, None, years, f"{failing} not 优秀/合格")
    if grade >= GRADE_RANGES[post][1]:
        return StepUp(worker_id, post, grade, None, years, f"grade {grade} is the top of the {post} range")
    return StepUp(worker_id, post, grade, grade + 1, years, "C7")
