"""S1–S8, P2–P3 with the documents' numbers, as pure functions."""

from dataclasses import replace

import pytest

from services.roster.domain.staffing import CommunityStaffing, community_findings, required_staff
from services.roster.domain.staffing_policy import GENERAL, PRESETS, preset_for


@pytest.mark.parametrize(
    ("households", "required"),
    [(800, 6), (2000, 6), (2499, 6), (2500, 7), (3000, 8), (3099, 8), (3500, 9)],
)
def test_s1_s2_base_six_plus_one_per_500_households_above_2000(households: int, required: int) -> None:
    # S1: at least 6; S2: +1 for every 500 households above 2,000, whole steps (3,099 → 8).
    assert required_staff("urban", households, 0, GENERAL) == (required, 0)


def test_s2_rounding_is_a_parameter() -> None:
    ceiling = replace(GENERAL, rounding="ceil")
    assert required_staff("urban", 3099, 0, ceiling)[0] == 9
    assert required_staff("urban", 2001, 0, ceiling)[0] == 7
    assert required_staff("urban", 2000, 0, ceiling)[0] == 6


def test_s3_extra_posts_only_for_commercial_residential_and_old_town() -> None:
    assert required_staff("old_town", 3099, 2, GENERAL)[0] == 10
    assert required_staff("commercial_residential", 1000, 1, GENERAL)[0] == 7
    assert required_staff("urban", 1000, 1, GENERAL)[0] == 6  # an approval does not apply to a plain community


def test_s4_rural_communities_need_one_to_two() -> None:
    assert required_staff("rural", 5000, 0, GENERAL) == (1, 2)


def staffing(**overrides: int | str) -> CommunityStaffing:
    base = CommunityStaffing(
        code="331002001001", kind="urban", households=2000, extra_staff=0, workers=6, residents=1,
        generalists=2, grid_duty=0, chiefs=1, chiefs_approved=0, deputies=1,
    )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def rules(c: CommunityStaffing, policy=GENERAL) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.rule for f in community_findings(c, policy)]


def test_a_compliant_community_has_no_findings() -> None:
    assert rules(staffing(), PRESETS["taizhou"]) == []


def test_findings_name_their_rules() -> None:
    taizhou = PRESETS["taizhou"]
    assert rules(staffing(households=3099, workers=7)) == ["S2"]
    assert rules(staffing(workers=5)) == ["S1"]
    assert rules(staffing(kind="rural", workers=3, chiefs=0, deputies=0)) == ["S4"]
    assert rules(staffing(residents=0), taizhou) == ["S6"]  # Taizhou: someone lives in the community
    assert rules(staffing(residents=0)) == []  # Wenzhou sets no such rule
    assert rules(staffing(generalists=1), taizhou) == ["S7"]  # Taizhou: at least 2 generalists
    assert rules(staffing(grid_duty=2)) == ["S8"]
    assert rules(staffing(chiefs=0)) == ["P2"]
    assert rules(staffing(chiefs=2)) == ["P2"]
    assert rules(staffing(chiefs=2, chiefs_approved=1)) == []
    assert rules(staffing(deputies=0)) == ["P3"]
    assert rules(staffing(deputies=3)) == ["P3"]


def test_city_presets() -> None:
    assert preset_for("331002001001").min_generalists == 2  # 台州市 331000
    assert preset_for("330302001001").min_generalists == 0  # 温州市 330300
    assert preset_for("330102001001") == GENERAL
