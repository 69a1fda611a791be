"""Roster policy parameters (POLICY S1–S8, P2–P3, H2–H8, K1–K2): data per region and year, never constants.

A county may set its own; otherwise the nearest ancestor's apply, and at the top the preset of the
city's profile (``wenzhou`` for 330300, ``taizhou`` for 331000) or the general defaults of POLICY.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

Rounding = Literal["floor", "ceil"]


@dataclass(frozen=True)
class StaffingPolicy:
    base_staff: int = 6  # S1: an urban community needs at least 6 workers
    household_threshold: int = 2000  # S2: above 2,000 households …
    household_step: int = 500  # S2: … +1 worker for every 500 more
    rounding: Rounding = "floor"  # S2: whole steps by default (3,099 households → 8)
    rural_min: int = 1  # S4
    rural_max: int = 2  # S4
    min_resident_workers: int = 0  # S6 (Taizhou: 1 worker living in the community)
    min_generalists: int = 0  # S7 (Taizhou: 2 generalists per community)
    max_chiefs_with_approval: int = 2  # P2: one chief; a second only with an approval record
    min_deputies: int = 1  # P3
    max_deputies: int = 2  # P3
    reserve_ratio: float = 1.0  # H2: reserve pool at most 1:1 of the round's hires
    contract_years: int = 1  # H3: contracts signed for one year at a time
    probation_months: int = 6  # H4
    min_service_years: int = 2  # H5: before a transfer
    loan_max_months: int = 6  # H6: lending to another department
    practice_max_months: int = 12  # H6: practice posting
    certificate_deadline_years: int = 3  # H7: no certificate 3 years after hire → not renewed
    incompetent_years_to_end: int = 2  # H8: consecutive 不合格 years that end the contract
    career_chief_years: int = 6  # K1 Wenzhou 6 consecutive years as chief; K2 Taizhou 5
    career_staff_stay_years: int = 3  # K3: years in the community post after taking a career-staff post
    source: str = "POLICY.md S1–S8, P2–P3 defaults"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


GENERAL = StaffingPolicy()
PRESETS: dict[str, StaffingPolicy] = {
    "wenzhou": replace(GENERAL, source="温州市实施意见（征求意见稿）: S1–S5, P1–P3"),
    "taizhou": replace(
        GENERAL,
        min_resident_workers=1,
        min_generalists=2,
        career_chief_years=5,
        source="台州市民政局 2021-07-08 答复: S6 每社区至少1名本社区居住, S7 至少2名全科社工, K2 连续任正职5年",
    ),
}
# Which preset a city's regions start from (policy profile of the city).
CITY_PRESETS = {"3303": "wenzhou", "3310": "taizhou"}


def preset_for(region_code: str) -> StaffingPolicy:
    return PRESETS.get(CITY_PRESETS.get(region_code[:4], ""), GENERAL)


def from_overrides(base: StaffingPolicy, overrides: dict[str, Any]) -> StaffingPolicy:
    known = {k: v for k, v in overrides.items() if k in StaffingPolicy.__dataclass_fields__}
    return replace(base, **known)
