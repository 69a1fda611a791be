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
