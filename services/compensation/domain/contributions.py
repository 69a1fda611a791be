"""Social insurance and housing fund paid in full (rule C9): every worker, every month, both the
worker's and the employer's shares on the full contribution base, clamped to the year's floor and cap.

The contribution base of a month is the worker's regular wage of the month — the base wage (C5) and
the certificate allowance (C8), as the payroll computes it — raised to ``contribution_base_min`` and
lowered to ``contribution_base_max``. Each share is base × rate rounded half up to the cent (as
PostgreSQL's ``round(numeric, 2)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.compensation.domain.policy import PayPolicy
from shared.money import CENT

# Payslip columns: the worker's shares, then the employer's (C1: the employer's are not pay).
WORKER_SHARES = ("pension", "medical", "unemployment", "housing_fund")
EMPLOYER_SHARES = ("pension", "medical", "unemployment", "injury", "housing_fund")
COLUMNS = (*WORKER_SHARES, *(f"employer_{kind}" for kind in EMPLOYER_SHARES))


def contribution_wage(base: Decimal, certificate_allowance: Decimal) -> Decimal:
    """The month's wage contributions are due on (C9): base wage plus certificate allowance."""
    return base + certificate_allowance


def clamped_base(wage: Decimal, policy: PayPolicy) -> Decimal:
    """The contribution base: the wage within the year's floor and cap (C9)."""
    return min(max(wage, policy.contribution_base_min), policy.contribution_base_max).quantize(CENT)


def expected_contributions(wage: Decimal, policy: PayPolicy) -> dict[str, Decimal]:
    """Payslip column → the amount due on ``wage`` (C9): worker's shares and employer's shares."""
    base = clamped_base(wage, policy)
    zero = Decimal(0)
    due = {kind: policy.employee_rates.get(kind, zero) for kind in WORKER_SHARES}
    due |= {f"employer_{kind}": policy.employer_rates.get(kind, zero) for kind in EMPLOYER_SHARES}
    return {column: (base * rate).quantize(CENT, rounding=ROUND_HALF_UP) for column, rate in due.items()}


@dataclass(frozen=True)
class Shortfall:
    """One contribution of a payslip missing or below what the clamped base requires (C9)."""

    column: str
    expected: Decimal
    actual: Decimal

    @property
    def missing(self) -> bool:
        return self.actual == 0


def shortfalls(actual: Mapping[str, Decimal | None], expected: Mapping[str, Decimal]) -> list[Shortfall]:
    """The columns paid below what is due, in payslip order (C9: paid in full); none paid counts as 0.00."""
    paid = {column: (actual.get(column) or Decimal(0)).quantize(CENT) for column in COLUMNS}
    return [Shortfall(column, expected[column], paid[column]) for column in COLUMNS if paid[column] < expected[column]]
