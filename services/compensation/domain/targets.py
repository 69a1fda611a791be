"""Pay targets: C2 (Wenzhou: 1.2–1.8 × last year's urban disposable income, never below last year's actual
average) and C3 (Taizhou: chief ≥ 1.3×, deputy ≥ 1.1×, staff ≥ 1.0× last year's average wage)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from services.compensation.domain.policy import PayPolicy
from shared.money import CENT
from shared.policy_rules import decides


class TargetError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


@decides("C2")
def wenzhou_target(policy: PayPolicy, disposable_income: Decimal, last_year_actual_average: Decimal | None) -> Decimal:
    """C2: multiplier × last year's urban per-capita disposable income, at least last year's actual average."""
    if not Decimal("1.2") <= policy.multiplier <= policy.multiplier_max:
        raise TargetError("C2", f"multiplier {policy.multiplier} outside 1.2–{policy.multiplier_max}")
    target = (policy.multiplier * disposable_income).quantize(CENT, rounding=ROUND_HALF_UP)
    if last_year_actual_average is not None and last_year_actual_average > target:
        return last_year_actual_average.quantize(CENT, rounding=ROUND_HALF_UP)
    return target


@decides("C3")
def taizhou_floors(policy: PayPolicy, average_wage: Decimal) -> dict[str, Decimal]:
    """C3: the floor of each post's annual pay."""
    return {
        post: (factor * average_wage).quantize(CENT, rounding=ROUND_HALF_UP)
        for post, factor in policy.post_floors.items()
    }


@decides("C1")
def annualised(pay: Decimal, worker_months: int) -> Decimal:
    """Average annual pay from the pay of ``worker_months`` payslips (C1: without employer parts)."""
    return (pay / worker_months * 12).quantize(CENT, rounding=ROUND_HALF_UP) if worker_months else Decimal(0)


def pay_shortfalls(
    per_post: Mapping[str, Decimal],
    overall: Decimal | None,
    target_average: Decimal | None,
    post_floors: Mapping[str, Decimal] | None,
) -> list[tuple[str, str, Decimal, Decimal]]:
    """(rule, post, expected, actual) for each post below its C3 floor and for an overall average below the
    C2 target (``overall`` is None when nothing was paid)."""
    found = [
        ("C3", post, floor, annual)
        for post, annual in per_post.items()
        if (floor := (post_floors or {}).get(post)) is not None and annual < floor
    ]
    if target_average is not None and overall is not None and overall < target_average:
        found.append(("C2", "all", target_average, overall))
    return found
