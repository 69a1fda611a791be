"""Annual assessment (E1–E4): weighted scores by rater group, the four grades, the 优秀 cap.

Everything the documents leave to the county is a scheme parameter: the rater groups and their weights
(E2; e.g. Jiaxing Nanhu: township 30 %, peers 10 %, residents 60 %), minimum panel sizes, the share of
ordinary residents in a resident panel, the grade thresholds (E3), the weight of daily against annual
results (E1) and an optional cap on the share of 优秀 per township.

The cap's tie rule, deterministic and documented: candidates for 优秀 are ranked by final score
(higher first), then by the resident groups' score (residents' satisfaction is the focus of E2),
then by worker id; those ranked beyond ⌊cap × workers⌋ become 合格.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.i18n import Message
from shared.policy_rules import decides

CENT = Decimal("0.01")
GRADES = ("excellent", "competent", "basically_competent", "incompetent")  # E3
RESIDENT_GROUPS = frozenset({"residents", "resident_representatives"})


@dataclass(frozen=True)
class RaterGroup:
    code: str  # community_secretary, township_cadres, party_members, residents, resident_representatives, peers
    weight: Decimal
    min_panel: int | None = None
    min_ordinary_share: Decimal | None = None  # e.g. 0.70 of a resident panel are ordinary residents


@dataclass(frozen=True)
class Scheme:
    groups: tuple[RaterGroup, ...]
    thresholds: dict[str, Decimal]  # lowest score of excellent, competent, basically_competent
    excellent_cap_share: Decimal | None
    daily_weight: Decimal  # 0 = annual only


@dataclass(frozen=True)
class Entry:
    group: str
    score: Decimal
    panel_size: int | None = None
    ordinary_share: Decimal | None = None


def scheme_problems(scheme: Scheme) -> list[str]:
    """What the county must still set before a cycle can close."""
    problems = []
    if not scheme.groups:
        problems.append("no rater groups (E2)")
    elif sum((g.weight for g in scheme.groups), Decimal(0)) != Decimal(1):
        problems.append("rater weights must add up to 1 (E2)")
    for grade in GRADES[:3]:
        if grade not in scheme.thresholds:
            problems.append(f"threshold for {grade} not set (E3)")
    if not (Decimal(0) <= scheme.daily_weight <= Decimal(1)):
        problems.append("daily weight must lie between 0 and 1 (E1)")
    return problems


@decides("E2")
def panel_problems(scheme: Scheme, entries: dict[str, Entry], names: Mapping[str, str] | None = None) -> list[Message]:
    """Missing groups and panels below their minimum for one worker (E2), in both languages; the Chinese text
    names each rater group by ``names`` (its label, e.g. 乡镇（街道）干部), the English by its code."""
    problems = []
    for group in scheme.groups:
        entry = entries.get(group.code)
        name = (names or {}).get(group.code, group.code)
        if entry is None:
            problems.append(Message(f"缺少{name}的评分", f"no score from {group.code}"))
            continue
        if group.min_panel is not None and (entry.panel_size or 0) < group.min_panel:
            problems.append(
                Message(
                    f"{name}评价人数 {entry.panel_size or 0}，至少 {group.min_panel}",
                    f"{group.code} panel of {entry.panel_size or 0}, at least {group.min_panel}",
                )
            )
        share, least = entry.ordinary_share or Decimal(0), group.min_ordinary_share
        if least is not None and share < least:
            problems.append(
                Message(
                    f"{name}：普通居民占比 {entry.ordinary_share or 0}，至少 {least}",
                    f"{group.code}: ordinary residents {entry.ordinary_share or 0}, at least {least}",
                )
            )
    return problems


@decides("E1")
def weighted_score(scheme: Scheme, entries: dict[str, Entry], daily: Decimal | None) -> Decimal:
    """Σ weight × score over the rater groups (E2), then daily against annual by the scheme's weight (E1)."""
    annual = sum((g.weight * entries[g.code].score for g in scheme.groups), Decimal(0))
    if daily is not None and scheme.daily_weight:
        annual = annual * (1 - scheme.daily_weight) + daily * scheme.daily_weight
    return annual.quantize(CENT, rounding=ROUND_HALF_UP)


@decides("E3")
def grade_for(score: Decimal, thresholds: dict[str, Decimal]) -> str:
    """E3: 优秀 / 合格 / 基本合格 by the county's thresholds, 不合格 below."""
    for grade in GRADES[:3]:
        if score >= thresholds[grade]:
            return grade
    return "incompetent"


@dataclass(frozen=True)
class Ranked:
    worker_id: str
    score: Decimal
    resident_score: Decimal
    grade: str


def apply_excellent_cap(results: list[Ranked], cap_share: Decimal | None) -> tuple[list[Ranked], set[str]]:
    """Demote the lowest-ranked 优秀 beyond ⌊cap × workers⌋ to 合格; returns results and who was demoted."""
    if cap_share is None:
        return results, set()
    allowed = math.floor(cap_share * len(results))
    candidates = sorted(
        (r for r in results if r.grade == "excellent"), key=lambda r: (-r.score, -r.resident_score, r.worker_id)
    )
    demoted = {r.worker_id for r in candidates[allowed:]}
    return [
        Ranked(r.worker_id, r.score, r.resident_score, "competent") if r.worker_id in demoted else r for r in results
    ], demoted


def resident_score(scheme: Scheme, entries: dict[str, Entry]) -> Decimal:
    weights = [
        (g.weight, entries[g.code].score) for g in scheme.groups if g.code in RESIDENT_GROUPS and g.code in entries
    ]
    total = sum((w for w, _ in weights), Decimal(0))
    return (sum((w * s for w, s in weights), Decimal(0)) / total) if total else Decimal(0)
