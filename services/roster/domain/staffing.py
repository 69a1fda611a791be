"""How many workers a community needs (S1–S4), and the staffing findings of one community (S1–S8, P2–P3).

Pure functions over plain values: the compliance report (``services.roster.compliance``) feeds them
from SQL, the tests feed them the documents' numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.roster.domain.posts import Violation
from services.roster.domain.staffing_policy import StaffingPolicy
from shared.policy_rules import decides

EXTRA_STAFF_KINDS = frozenset({"commercial_residential", "old_town"})  # S3


@decides("S3")
def extra_staff_problem(kind: str | None, extra: int, approval: str | None) -> Violation | None:
    """S3: extra posts only for 商住/老旧 communities, and only with the approving document."""
    if extra and kind not in EXTRA_STAFF_KINDS:
        return Violation(
            "extra_staff", "仅商住、老旧社区可增配", "only commercial-residential and old-town communities", "S3"
        )
    if extra and not approval:
        return Violation("extra_staff_approval", "增配须有审批文件", "extra posts need the approving document", "S3")
    return None


@decides("S1", "S2", "S4")
def required_staff(kind: str, households: int, extra_staff: int, policy: StaffingPolicy) -> tuple[int, int]:
    """(minimum, maximum or 0 for none) workers a community needs.

    S1 base of 6; S2 +1 per 500 households above 2,000 (whole steps by default); S3 extra posts for
    商住/老旧 communities with an approval; S4 a rural community 1–2.
    """
    if kind == "rural":
        return policy.rural_min, policy.rural_max  # S4
    above = max(0, households - policy.household_threshold)
    steps = above / policy.household_step
    extra_households = math.floor(steps) if policy.rounding == "floor" else math.ceil(steps)  # S2
    approved_extra = extra_staff if kind in EXTRA_STAFF_KINDS else 0  # S3
    return policy.base_staff + extra_households + approved_extra, 0  # S1


@dataclass(frozen=True)
class Finding:
    """One breach of a rule, named by its id."""

    rule: str
    community: str
    message_zh: str
    message_en: str
    expected: int | None = None
    actual: int | None = None


@dataclass(frozen=True)
class CommunityStaffing:
    """What the roster holds for one community on the report date."""

    code: str
    kind: str
    households: int
    extra_staff: int
    workers: int
    residents: int  # workers who live in the community (S6)
    generalists: int  # S7
    grid_duty: int  # workers given grid-worker duties (S8)
    chiefs: int
    chiefs_approved: int  # chiefs beyond the first holding an approval (P2)
    deputies: int


@decides("S6", "S7", "S8")
def community_findings(c: CommunityStaffing, policy: StaffingPolicy) -> list[Finding]:
    found: list[Finding] = []
    minimum, maximum = required_staff(c.kind, c.households, c.extra_staff, policy)
    rule = "S4" if c.kind == "rural" else ("S2" if c.households > policy.household_threshold else "S1")
    if c.workers < minimum:
        found.append(
            Finding(
                rule,
                c.code,
                f"配备 {c.workers} 人，少于应配 {minimum} 人",
                f"{c.workers} workers, {minimum} required",
                minimum,
                c.workers,
            )
        )
    if maximum and c.workers > maximum:
        found.append(
            Finding(
                "S4",
                c.code,
                f"农村社区配备 {c.workers} 人，多于 {maximum} 人",
                f"{c.workers} workers, at most {maximum}",
                maximum,
                c.workers,
            )
        )
    if c.residents < policy.min_resident_workers:
        found.append(
            Finding(
                "S6",
                c.code,
                "无居住在本社区的社工",
                "No worker lives in the community",
                policy.min_resident_workers,
                c.residents,
            )
        )
    if c.generalists < policy.min_generalists:
        found.append(
            Finding(
                "S7",
                c.code,
                f"全科社工 {c.generalists} 人，少于 {policy.min_generalists} 人",
                f"{c.generalists} generalists, {policy.min_generalists} required",
                policy.min_generalists,
                c.generalists,
            )
        )
    if c.grid_duty:
        found.append(
            Finding(
                "S8",
                c.code,
                f"{c.grid_duty} 名社工兼任网格员",
                f"{c.grid_duty} workers hold grid duties",
                0,
                c.grid_duty,
            )
        )
    if c.chiefs == 0 and c.kind != "rural":
        found.append(Finding("P2", c.code, "无正职", "No chief", 1, 0))
    if c.chiefs > 1 + c.chiefs_approved:
        found.append(
            Finding(
                "P2",
                c.code,
                f"正职 {c.chiefs} 人，超出部分无审批",
                f"{c.chiefs} chiefs without approval for the second",
                1,
                c.chiefs,
            )
        )
    if c.kind != "rural" and not policy.min_deputies <= c.deputies <= policy.max_deputies:
        found.append(
            Finding(
                "P3",
                c.code,
                f"副职 {c.deputies} 人，应为 {policy.min_deputies}–{policy.max_deputies} 人",
                f"{c.deputies} deputies, {policy.min_deputies}–{policy.max_deputies} required",
                policy.min_deputies,
                c.deputies,
            )
        )
    return found
