"""Sharing a township's bonus pool (C5): by assessment grade coefficient × months in post, to the cent,
largest-remainder rounding so that the shares add up to the pool exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from shared.money import CENT
from shared.policy_rules import decides


@dataclass(frozen=True)
class Claim:
    worker_id: str
    grade: str
    months: Decimal  # months in post in the year (0–12)


@decides("C5")
def share_pool(pool: Decimal, claims: list[Claim], coefficients: dict[str, Decimal]) -> dict[str, Decimal]:
    """Each claim's share: pool × weight / Σ weights, floored to the cent; the cents left over go one by one
    to the largest remainders (ties: lower worker id first), so the shares sum to the pool exactly."""
    weights = {c.worker_id: coefficients[c.grade] * c.months for c in claims}
    total = sum(weights.values(), Decimal(0))
    if total == 0:
        return {c.worker_id: Decimal("0.00") for c in claims}
    exact = {w: pool * weight / total for w, weight in weights.items()}
    floored = {w: value.quantize(CENT, rounding=ROUND_DOWN) for w, value in exact.items()}
    left = int(((pool - sum(floored.values(), Decimal(0))) / CENT).to_integral_value())
    for w in sorted(exact, key=lambda w: (-(exact[w] - floored[w]), w))[:left]:
        floored[w] += CENT
    return floored
