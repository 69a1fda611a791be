"""Contracts, renewals, secondments, transfers, the reserve pool and career eligibility (H1–H8, K1–K2)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from services.roster.domain.staffing_policy import StaffingPolicy
from shared.policy_rules import consecutive_incompetent, decides


@decides("H3")
def contract_end(start: date, policy: StaffingPolicy) -> date:
    """H3: one year at a time (the end is exclusive: a contract from 2026-01-05 runs to 2027-01-05)."""
    return start + relativedelta(years=policy.contract_years)


@decides("H4")
def probation_end(hire_date: date, policy: StaffingPolicy) -> date:
    """H4: 6 months from the hire date."""
    return hire_date + relativedelta(months=policy.probation_months)


@decides("H7")
def certificate_deadline(hire_date: date, policy: StaffingPolicy) -> date:
    """H7: the date by which a worker must hold a social-work certificate to be renewed."""
    return hire_date + relativedelta(years=policy.certificate_deadline_years)


@dataclass(frozen=True)
class RenewalBar:
    rule: str
    zh: str
    en: str


def renewal_bars(
    *,
    hire_date: date,
    certificate_date: date | None,
    renewal_date: date,
    grades: dict[int, str],
    policy: StaffingPolicy,
    certificate_required: bool = True,
) -> list[RenewalBar]:
    """Why a contract must not be renewed on ``renewal_date`` (empty: it may be).

    H7: a worker who, being eligible, holds no certificate 3 years after hire is not renewed.
    H8: the last ``incompetent_years_to_end`` (2) annual assessments before the renewal year all 不合格.
    """
    bars = []
    deadline = certificate_deadline(hire_date, policy)
    if certificate_required and renewal_date >= deadline and (certificate_date is None or certificate_date > deadline):
        bars.append(
            RenewalBar(
                "H7",
                f"入职满{policy.certificate_deadline_years}年未取得社工证",
                f"no certificate {policy.certificate_deadline_years} years after hire",
            )
        )
    years = policy.incompetent_years_to_end
    if consecutive_incompetent(grades, renewal_date.year - 1, years):  # the years before the renewal's
        bars.append(RenewalBar("H8", f"连续{years}年考核不合格", f"{years} consecutive years assessed incompetent"))
    return bars


@decides("H6")
def secondment_problem(
    kind: str, start: date, end: date, approval: str | None, policy: StaffingPolicy
) -> RenewalBar | None:
    """H6: a loan needs the county's approval and lasts at most 6 months; a practice posting at most 1 year."""
    if kind == "loan" and not approval:
        return RenewalBar("H6", "借用须经县级审批", "a loan needs the county's approval")
    months = policy.loan_max_months if kind == "loan" else policy.practice_max_months
    if end > start + relativedelta(months=months):
        label = ("借用", "a loan") if kind == "loan" else ("跟岗锻炼", "a practice posting")
        return RenewalBar("H6", f"{label[0]}最长{months}个月", f"{label[1]} lasts at most {months} months")
    return None


@decides("H5")
def may_transfer(hire_date: date, on: date, policy: StaffingPolicy) -> bool:
    """H5: at least 2 years of service before a transfer."""
    return on >= hire_date + relativedelta(years=policy.min_service_years)


@decides("H2")
def reserve_capacity(hires: int, policy: StaffingPolicy) -> int:
    """H2: reserve entries of a round, at most 1:1 of its hires."""
    return math.floor(hires * policy.reserve_ratio)


def consecutive_chief_years(periods: Iterable[tuple[date, date | None]], on: date) -> float:
    """Years as chief without a break up to ``on``; 0 when not chief on ``on``.

    Periods are [start, end) with end None while held; periods that touch make one stretch.
    """
    stretch_start: date | None = None
    stretch_end: date | None = None  # exclusive; None = still held
    for start, end in sorted((s, e) for s, e in periods if s <= on):
        if stretch_start is None or (stretch_end is not None and start > stretch_end):
            stretch_start, stretch_end = start, end
        elif stretch_end is not None:
            stretch_end = None if end is None else max(stretch_end, end)
    if stretch_start is None or (stretch_end is not None and stretch_end <= on):
        return 0.0
    delta = relativedelta(on, stretch_start)
    return delta.years + delta.months / 12 + delta.days / 365.25


@decides("K1", "K2")
def career_eligible(periods: Iterable[tuple[date, date | None]], on: date, policy: StaffingPolicy) -> bool:
    """K1 (Wenzhou, 6 years) / K2 (Taizhou, 5 years) consecutive years as chief."""
    return consecutive_chief_years(periods, on) >= policy.career_chief_years
