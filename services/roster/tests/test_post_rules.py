"""P2/P3 at every date: counting posts held together, exactly, over a new period."""

from datetime import date

from services.roster.domain.posts import max_concurrent, overlaps


def test_overlap_of_half_open_periods() -> None:
    assert overlaps((date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 3, 1), None))
    assert not overlaps((date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), None))  # end is exclusive


def test_two_deputies_one_after_the_other_hold_only_one_post_at_a_time() -> None:
    existing = [(date(2026, 1, 1), date(2026, 4, 1)), (date(2026, 4, 1), None)]
    # A new deputy for the whole year is the second deputy on every day: P3 allows it.
    assert max_concurrent(existing, (date(2026, 1, 1), None)) == 1


def test_two_deputies_at_once_are_two() -> None:
    existing = [(date(2026, 1, 1), None), (date(2026, 2, 1), None)]
    assert max_concurrent(existing, (date(2026, 3, 1), None)) == 2
    assert max_concurrent(existing, (date(2025, 1, 1), date(2026, 1, 15))) == 1
    assert max_concurrent(existing, (date(2024, 1, 1), date(2025, 1, 1))) == 0


def test_p2_p3_c4_rules_of_a_post_assignment_with_the_documents_numbers() -> None:
    from services.roster.domain.posts import grade_violation, holders_violation

    assert grade_violation("chief", 7) is None  # chief 7–18
    assert grade_violation("chief", 6).rule == "C4"  # type: ignore[union-attr]
    assert grade_violation("staff", 13).field == "grade"  # type: ignore[union-attr]  # staff 1–12
    assert holders_violation("chief", 0, False, 2, 2) is None  # P2: the first chief
    assert holders_violation("chief", 1, False, 2, 2).field == "approval"  # type: ignore[union-attr]
    assert holders_violation("chief", 1, True, 2, 2) is None  # a second chief with the county's approval
    assert holders_violation("chief", 2, True, 2, 2).rule == "P2"  # type: ignore[union-attr]
    assert holders_violation("deputy", 1, False, 2, 2) is None  # P3: one or two deputies
    assert holders_violation("deputy", 2, False, 2, 2).rule == "P3"  # type: ignore[union-attr]
