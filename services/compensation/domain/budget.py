"""C11: next year's pay budget of a county — the workers in post on 1 January at their scale cells (C4),
their certificate allowances (C8), the quota's vacancies (S5) at the average pay, and the employer's
contributions (C9) on all of it. Pure arithmetic, exact to the cent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.money import CENT
from shared.policy_rules import decides


@dataclass(frozen=True)
class Budget:
    workers: int
    vacancies: int
    pay: Decimal
    certificate_allowances: Decimal
    vacancy_pay: Decimal
    employer_contributions: Decimal
    total: Decimal


def missing_cells(cells: Mapping[tuple[str, int], Decimal], held: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """C4: the posts and grades held that the scale has no annual amount for."""
    return sorted({cell for cell in held if cell not in cells})


@decides("C11")
def pay_budget(
    cells: Mapping[tuple[str, int], Decimal],
    held: Sequence[tuple[str, int, str | None]],
    quota: int | None,
    monthly_allowances: Mapping[str, Decimal],
    employer_rates: Mapping[str, Decimal],
) -> Budget:
    """``held``: (post, grade, certificate level) of each worker in post; every cell is on the scale."""
    pay = sum((cells[(post, grade)] for post, grade, _ in held), Decimal(0))
    allowances = sum((monthly_allowances.get(level or "", Decimal(0)) * 12 for _, _, level in held), Decimal(0))
    vacancies = max(0, (quota if quota is not None else len(held)) - len(held))
    average = (pay / len(held)) if held else (sum(cells.values(), Decimal(0)) / len(cells))
    vacancy_pay = average * vacancies
    employer = (pay + allowances + vacancy_pay) * sum(employer_rates.values(), Decimal(0))
    total = pay + allowances + vacancy_pay + employer
    return Budget(
        workers=len(held),
        vacancies=vacancies,
        pay=pay.quantize(CENT),
        certificate_allowances=allowances.quantize(CENT),
        vacancy_pay=vacancy_pay.quantize(CENT, rounding=ROUND_HALF_UP),
        employer_contributions=employer.quantize(CENT, rounding=ROUND_HALF_UP),
        total=total.quantize(CENT, rounding=ROUND_HALF_UP),
    )
