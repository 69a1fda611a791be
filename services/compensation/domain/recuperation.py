"""Recuperation leave (疗休养, rule C10): at most ``recuperation_per_day`` (400) a day, at most
``recuperation_days`` (5) days, at most ``recuperation_per_year`` (2,000) per person per year.

A claim is paid as far as the caps allow: a claim dearer than the daily cap is allowed at the cap, a
claim larger than what is left of the year's allowance is allowed up to what is left; the amount asked
and the amount allowed are kept side by side with the reasons. Only what cannot be paid at all is
refused: more days than the cap, or nothing left of the year's allowance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from services.compensation.domain.policy import PayPolicy
from shared.money import CENT
from shared.policy_rules import decides


@dataclass(frozen=True)
class Reason:
    """A reason of rule C10: its code, in both languages."""

    code: str
    zh: str
    en: str
    rule: str = "C10"


@dataclass(frozen=True)
class Reduction(Reason):
    """Why less was allowed than asked (C10): per_day_cap | year_allowance."""


@dataclass(frozen=True)
class Refusal(Reason):
    """A claim that cannot be paid at all (C10): too_many_days | year_allowance_used, and the field at fault."""

    field: str = dataclasses.field(kw_only=True)  # days | amount


@dataclass(frozen=True)
class Assessment:
    requested: Decimal
    allowed: Decimal
    reductions: tuple[Reduction, ...]


def year_left(policy: PayPolicy, used: Decimal) -> Decimal:
    """What is left of the person's allowance for the year (C10: 2,000), never below zero."""
    return max(policy.recuperation_per_year - used, Decimal(0)).quantize(CENT)


@decides("C10")
def assess_claim(policy: PayPolicy, days: int, amount: Decimal, used: Decimal) -> Assessment | Refusal:
    """The amount allowed for a claim of ``amount`` over ``days`` days when ``used`` of the year's
    allowance is already taken, or why nothing can be paid (rule C10). Exact to the cent, never rounded up."""
    if days > policy.recuperation_days:
        return Refusal(
            "too_many_days",
            f"疗休养最多 {policy.recuperation_days} 天，申请了 {days} 天（C10）",
            f"Recuperation lasts at most {policy.recuperation_days} days; {days} were asked (C10)",
            field="days",
        )
    left = year_left(policy, used)
    if left <= 0:
        return Refusal(
            "year_allowance_used",
            f"本年度疗休养额度 {policy.recuperation_per_year} 元已用完（C10）",
            f"The year's recuperation allowance of {policy.recuperation_per_year} yuan is used up (C10)",
            field="amount",
        )
    requested = amount.quantize(CENT)
    allowed = requested
    reductions: list[Reduction] = []
    daily_cap = (policy.recuperation_per_day * days).quantize(CENT, rounding=ROUND_DOWN)
    if allowed > daily_cap:
        allowed = daily_cap
        reductions.append(
            Reduction(
                "per_day_cap",
                f"每天最多 {policy.recuperation_per_day} 元：{days} 天按 {daily_cap} 元核准（C10）",
                f"At most {policy.recuperation_per_day} yuan a day: {days} days allowed at {daily_cap} (C10)",
            )
        )
    if allowed > left:
        allowed = left
        reductions.append(
            Reduction(
                "year_allowance",
                f"每人每年最多 {policy.recuperation_per_year} 元：本年度尚余 {left} 元（C10）",
                f"At most {policy.recuperation_per_year} yuan a person a year: {left} left this year (C10)",
            )
        )
    return Assessment(requested, allowed, tuple(reductions))
