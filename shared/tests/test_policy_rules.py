"""H8 in one place: two consecutive annual assessments of 不合格 end the contract."""

from shared.policy_rules import consecutive_incompetent


def test_h8_two_consecutive_incompetent_years() -> None:
    assert consecutive_incompetent({2024: "incompetent", 2025: "incompetent"}, 2025)
    assert not consecutive_incompetent({2023: "incompetent", 2025: "incompetent"}, 2025)  # not consecutive
    assert not consecutive_incompetent({2024: "incompetent", 2025: "basically_competent"}, 2025)
    assert not consecutive_incompetent({2025: "incompetent"}, 2025)  # one year is not two
    assert consecutive_incompetent({2023: "incompetent", 2024: "incompetent", 2025: "incompetent"}, 2025, years=3)
