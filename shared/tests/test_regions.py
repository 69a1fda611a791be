"""Region codes: levels, normalisation and containment (the base of every region scope)."""

import pytest

from shared.regions import (
    RegionLevel,
    child_code_problem,
    contains,
    county_of,
    is_region_code,
    level,
    normalise,
    official,
    scope_prefix,
)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330000", RegionLevel.province),  # 浙江省
        ("330300", RegionLevel.city),  # 温州市
        ("331000", RegionLevel.city),  # 台州市
        ("330302", RegionLevel.county),  # 鹿城区
        ("330302001000", RegionLevel.township),
        ("330302001001", RegionLevel.community),
        ("330302000000", RegionLevel.county),
    ],
)
def test_level_from_code(code: str, expected: RegionLevel) -> None:
    assert level(code) == expected


def test_containment_follows_the_tree() -> None:
    assert contains("330000", "330302001001")
    assert contains("330300", "330302")
    assert not contains("331000", "330302001001")  # Taizhou does not hold a Wenzhou community
    assert contains("330302", "330302001001")
    assert not contains("330302", "330303001001")  # the next county
    assert contains("330302001000", "330302001001")
    assert not contains("330302001000", "330302002001")  # the next township
    assert contains("330302001001", "330302001001")
    assert not contains("330302001001", "330302001002")  # community A does not hold B
    assert not contains("330302001001", "330302001000")  # nor its own township


def test_prefix_normalise_and_county() -> None:
    assert scope_prefix("330300") == "3303"
    assert scope_prefix("330302001000") == "330302001"
    assert normalise("330302") == "330302000000"
    assert county_of("330302001001") == "330302"
    with pytest.raises(ValueError, match="above county"):
        county_of("330300")


@pytest.mark.parametrize("bad", ["", "33030", "3303021", "abcdef", "000000", "33030200100"])
def test_bad_codes(bad: str) -> None:
    assert not is_region_code(bad)
    with pytest.raises(ValueError, match="region code"):
        normalise(bad)


def test_ancestors_nearest_first() -> None:
    from shared.regions import ancestors

    assert ancestors("330302001001") == ["330302001000", "330302", "330300", "330000"]
    assert ancestors("330302001000") == ["330302", "330300", "330000"]
    assert ancestors("330302") == ["330300", "330000"]
    assert ancestors("330000") == []


@pytest.mark.parametrize(
    "code",
    ["000000", "990000", "330002", "330302000001", "330300001000", "33030", "3303021", "abcdef", "３３０３０２"],
)
def test_non_codes_are_refused(code: str) -> None:
    """GB/T 2260: a real province, and no level below a zero level; ASCII only (normalise first)."""
    assert not is_region_code(code)


def test_official_form_is_six_digits_to_county() -> None:
    assert official("330302000000") == "330302"
    assert official("330302001000") == "330302001000"


@pytest.mark.parametrize(
    ("parent", "child", "ok"),
    [
        ("330000", "330300", True),  # 温州市 under 浙江省
        ("330000", "340100", False),  # 合肥市 is not in 浙江省
        ("330300", "330302", True),  # 鹿城区 under 温州市
        ("330300", "331002", False),  # 椒江区 lies under 台州市 3310, not 3303
        ("330000", "330302", False),  # a county is not a province's direct child
        ("330302", "330302001000", True),  # township: county code + 3 digits + 000
        ("330302", "330304001000", False),
        ("330302001000", "330302001001", True),  # community: township's first 9 + 3 digits
        ("330302001000", "330302002001", False),
    ],
)
def test_a_child_code_extends_its_parents(parent: str, child: str, ok: bool) -> None:
    assert (child_code_problem(parent, child) is None) == ok
