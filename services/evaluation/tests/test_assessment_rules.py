"""E1–E3 and the 优秀 cap as pure functions (weights of Jiaxing Nanhu: township 30 %, peers 10 %, residents 60 %)."""

from decimal import Decimal

import pytest

from services.evaluation.domain.assessment import (
    Entry,
    Ranked,
    RaterGroup,
    Scheme,
    apply_excellent_cap,
    grade_for,
    panel_problems,
    scheme_problems,
    weighted_score,
)

D = Decimal
NANHU = Scheme(
    groups=(
        RaterGroup("township_cadres", D("0.3")),
        RaterGroup("peers", D("0.1")),
        RaterGroup("residents", D("0.6"), min_panel=50, min_ordinary_share=D("0.7")),
    ),
    thresholds={"excellent": D(90), "competent": D(70), "basically_competent": D(60)},
    excellent_cap_share=D("0.2"),
    daily_weight=D(0),
)


def entries(township: str, peers: str, residents: str, panel: int = 60, ordinary: str = "0.8") -> dict[str, Entry]:
    return {
        "township_cadres": Entry("township_cadres", D(township)),
        "peers": Entry("peers", D(peers)),
        "residents": Entry("residents", D(residents), panel, D(ordinary)),
    }


def test_weights_combine_as_configured() -> None:
    # 0.3 × 80 + 0.1 × 90 + 0.6 × 95 = 24 + 9 + 57 = 90.00
    assert weighted_score(NANHU, entries("80", "90", "95"), None) == D("90.00")
    assert weighted_score(NANHU, entries("85.5", "77", "91.25"), None) == D("88.10")  # 25.65 + 7.7 + 54.75


def test_daily_results_weigh_in_by_the_schemes_weight() -> None:
    with_daily = Scheme(NANHU.groups, NANHU.thresholds, None, D("0.4"))
    # annual 90 × 0.6 + daily 70 × 0.4 = 54 + 28 = 82
    assert weighted_score(with_daily, entries("80", "90", "95"), D(70)) == D("82.00")


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "excellent"),
        ("90", "excellent"),
        ("89.99", "competent"),
        ("70", "competent"),
        ("69.99", "basically_competent"),
        ("60", "basically_competent"),
        ("59.99", "incompetent"),
    ],
)
def test_thresholds_map_scores_to_the_four_grades(score: str, grade: str) -> None:
    assert grade_for(D(score), NANHU.thresholds) == grade  # E3


def test_panels_below_minimum_and_missing_groups_are_named() -> None:
    assert panel_problems(NANHU, entries("80", "90", "95")) == []
    small = [p.en for p in panel_problems(NANHU, entries("80", "90", "95", panel=49))]
    assert small == ["residents panel of 49, at least 50"]
    few_ordinary = [p.en for p in panel_problems(NANHU, entries("80", "90", "95", ordinary="0.69"))]
    assert "ordinary residents" in few_ordinary[0]
    assert [p.en for p in panel_problems(NANHU, {})] == [
        "no score from township_cadres",
        "no score from peers",
        "no score from residents",
    ]
    # in Chinese each group by its label (the service passes RaterGroupCode's), a code without one by its code
    names = {"township_cadres": "乡镇（街道）干部", "residents": "居民"}
    assert [p.zh for p in panel_problems(NANHU, {}, names)] == [
        "缺少乡镇（街道）干部的评分",
        "缺少peers的评分",
        "缺少居民的评分",
    ]
    assert [p.zh for p in panel_problems(NANHU, entries("80", "90", "95", panel=49), names)] == [
        "居民评价人数 49，至少 50"
    ]


def test_scheme_must_be_complete() -> None:
    assert scheme_problems(NANHU) == []
    lopsided = Scheme((RaterGroup("peers", D("0.5")),), NANHU.thresholds, None, D(0))
    assert scheme_problems(lopsided) == ["rater weights must add up to 1 (E2)"]
    no_thresholds = Scheme(NANHU.groups, {}, None, D(0))
    assert len(scheme_problems(no_thresholds)) == 3


def test_the_cap_demotes_the_lowest_ranked_excellent_with_a_documented_tie_rule() -> None:
    # 10 workers, cap 20 %: two may stay 优秀. Four qualify; ties broken by the residents' score, then id.
    results = [
        Ranked("w1", D("95.00"), D(90), "excellent"),
        Ranked("w2", D("93.00"), D(80), "excellent"),
        Ranked("w3", D("93.00"), D(88), "excellent"),
        Ranked("w4", D("91.00"), D(99), "excellent"),
        *(Ranked(f"x{n}", D("80.00"), D(80), "competent") for n in range(6)),
    ]
    capped, demoted = apply_excellent_cap(results, D("0.2"))
    assert demoted == {"w2", "w4"}  # w3 beats w2 on residents' score; w4 scored lower overall
    assert {r.worker_id for r in capped if r.grade == "excellent"} == {"w1", "w3"}
    assert apply_excellent_cap(results, None) == (results, set())
