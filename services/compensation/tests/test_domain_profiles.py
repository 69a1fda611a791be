"""Profile documents as pure functions: RFC 7396 merge patch, and the rules a profile's overrides obey."""

from services.compensation.domain.profiles import merge_patch, profile_errors


def test_rfc_7396_merge_patch() -> None:
    # The examples of RFC 7396 §3, abridged.
    target = {"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["a", "b"]}
    patch = {"title": "Hello!", "author": {"familyName": None}, "tags": ["c"], "phone": "+01-123-456-7890"}
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["c"],
        "phone": "+01-123-456-7890",
    }
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}


def test_every_parameter_needs_a_source_and_a_known_name() -> None:
    errors = profile_errors({"multiplier": "1.5", "bonus_pool": "1"}, {})
    assert [(e.pointer, e.rule) for e in errors] == [("/parameters/bonus_pool", None), ("/sources/multiplier", None)]


def test_c2_multiplier_between_1_2_and_1_8() -> None:
    assert [e.rule for e in profile_errors({"multiplier": "1.81"}, {"multiplier": "x"})] == ["C2"]
    assert profile_errors({"multiplier": 1.8}, {"multiplier": "x"}) == []


def test_c9_contribution_rates_complete_and_between_0_and_1() -> None:
    rates = {"pension": "0.08", "medical": "0.02", "unemployment": "0.005", "housing_fund": "0"}
    errors = profile_errors({"employee_rates": rates}, {"employee_rates": "x"})
    assert [(e.pointer, e.rule) for e in errors] == [("/parameters/employee_rates/housing_fund", "C9")]
    partial = profile_errors({"employer_rates": {"pension": "0.16"}}, {"employer_rates": "x"})
    assert partial[0].rule == "C9"
    assert "housing_fund" in partial[0].en
    floor_above_cap = profile_errors(
        {"contribution_base_min": "30000", "contribution_base_max": "24930"},
        {"contribution_base_min": "x", "contribution_base_max": "x"},
    )
    assert [e.rule for e in floor_above_cap] == ["C9"]


def test_c5_coefficients_for_every_grade_and_kinds_of_values() -> None:
    assert [
        e.rule for e in profile_errors({"bonus_coefficients": {"excellent": "1.2"}}, {"bonus_coefficients": "x"})
    ] == ["C5"]
    assert [e.field for e in profile_errors({"recuperation_days": True}, {"recuperation_days": "x"})] == [
        "recuperation_days"
    ]
    assert [e.rule for e in profile_errors({"joining_month": "half"}, {"joining_month": "x"})] == ["C6"]
