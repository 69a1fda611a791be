"""Region codes and who may see what: the arithmetic of region scope.

Codes are the national division codes: 6 digits down to county (GB/T 2260: ``330000`` 浙江省, ``330300``
温州市, ``330302`` 鹿城区), 12-digit statistical codes below (``330302001000`` a township/street,
``330302001001`` a community). A code is normalised to 12 digits; its *scope prefix* is the part that
all regions inside it share: 2 digits for a province, 4 for a city, 6 for a county, 9 for a township,
all 12 for a community or village.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from shared.codes import AsciiCode
from shared.i18n import Message
from shared.problems import rule_violation

_CODE = re.compile(r"^([0-9]{6}|[0-9]{12})$")  # ASCII only: ``\d`` would take any script's digits
# GB/T 2260 province-level codes (省、自治区、直辖市、特别行政区): the first two digits of every code.
PROVINCES = frozenset(
    (
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    )
)
# Segments of the 12-digit form: province, city, county (GB/T 2260), township, community (statistical code).
_SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    community = "community"


def is_region_code(code: str) -> bool:
    """6 or 12 ASCII digits, a real province, and no level below a zero one (``330002`` is no code)."""
    if not _CODE.match(code) or code[:2] not in PROVINCES:
        return False
    full = code.ljust(12, "0")
    zero_seen = False
    for start, end in _SEGMENTS:
        if int(full[start:end]) == 0:
            zero_seen = True
        elif zero_seen:
            return False
    return True


def official(code: str) -> str:
    """The code as the tree stores it: 6 digits down to county (GB/T 2260), 12 below."""
    full = normalise(code)
    return full[:6] if full[6:] == "000000" else full


def normalise(code: str) -> str:
    """12-digit form: ``330302`` → ``330302000000``."""
    if not is_region_code(code):
        raise ValueError(f"not a region code: {code!r} (6 or 12 digits)")
    return code.ljust(12, "0")


def level(code: str) -> RegionLevel:
    full = normalise(code)
    if full[2:] == "0" * 10:
        return RegionLevel.province
    if full[4:] == "0" * 8:
        return RegionLevel.city
    if full[6:] == "0" * 6:
        return RegionLevel.county
    if full[9:] == "000":
        return RegionLevel.township
    return RegionLevel.community


_PREFIX_LENGTH = {
    RegionLevel.province: 2,
    RegionLevel.city: 4,
    RegionLevel.county: 6,
    RegionLevel.township: 9,
    RegionLevel.community: 12,
}


def scope_prefix(code: str) -> str:
    """The prefix every region inside ``code`` starts with (in 12-digit form)."""
    return normalise(code)[: _PREFIX_LENGTH[level(code)]]


def contains(outer: str, inner: str) -> bool:
    """``inner`` lies in ``outer`` (a region contains itself)."""
    return normalise(inner).startswith(scope_prefix(outer))


def ancestors(code: str) -> list[str]:
    """Official codes of the ancestors, nearest first: 330302001001 → 330302001000, 330302, 330300, 330000."""
    full, depth = normalise(code), _PREFIX_LENGTH[level(code)]
    chain = [(9, full[:9] + "000"), (6, full[:6]), (4, full[:4] + "00"), (2, full[:2] + "0000")]
    return [official for length, official in chain if length < depth]


def county_of(code: str) -> str:
    """The 6-digit county of a region at county level or below."""
    if level(code) in (RegionLevel.province, RegionLevel.city):
        raise ValueError(f"{code} is above county level")
    return normalise(code)[:6]


def child_code_problem(parent: str, child: str) -> Message | None:
    """Why ``child`` cannot sit directly under ``parent``: a child's code extends its parent's.

    A city 3303xx lies under province 33xxxx, a county 330302 under city 3303xx, a township
    330302001000 under county 330302, a community 330302001001 under township 330302001xxx.
    """
    parent_level, child_level = level(parent), level(child)
    order = list(_PREFIX_LENGTH)
    if order.index(child_level) != order.index(parent_level) + 1:
        return Message(
            f"{child}（{_LEVEL_ZH[child_level]}）不能直属于{_LEVEL_ZH[parent_level]} {parent}",
            f"{child} is a {child_level.value}, not a child of the {parent_level.value} {parent}",
        )
    if not normalise(child).startswith(scope_prefix(parent)):
        return Message(
            f"{child} 应以上级代码 {scope_prefix(parent)} 开头",
            f"{child} must extend its parent's code {scope_prefix(parent)}",
        )
    return None


_LEVEL_ZH = {
    RegionLevel.province: "省级",
    RegionLevel.city: "市级",
    RegionLevel.county: "县级",
    RegionLevel.township: "乡镇（街道）",
    RegionLevel.community: "社区（村）",
}


def _region_code(code: str) -> str:
    if not is_region_code(code):
        raise rule_violation(
            None,
            f"不是有效的区划代码：{code}（6 位县级及以上代码 GB/T 2260，或 12 位统计用区划代码）",
            f"not a region code: {code} (6 digits to county, GB/T 2260, or 12 below)",
        )
    return official(code)


def _county_code(code: str) -> str:
    code = _region_code(code)
    if level(code) != RegionLevel.county:
        raise rule_violation(None, f"应为县级区划代码：{code}", f"must be a county code: {code}")
    return code


def _township_code(code: str) -> str:
    code = _region_code(code)
    if level(code) != RegionLevel.township:
        raise rule_violation(None, f"应为乡镇（街道）代码：{code}", f"must be a township code: {code}")
    return code


def _community_code(code: str) -> str:
    code = _region_code(code)
    if level(code) != RegionLevel.community:
        raise rule_violation(None, f"应为社区（村）代码：{code}", f"must be a community or village code: {code}")
    return code


RegionCode = Annotated[
    str, AsciiCode, Field(min_length=6, max_length=12, examples=["330302"]), AfterValidator(_region_code)
]
"""A region code as accepted anywhere (body, query, path): digits normalised, checked, in its official form."""
CountyCode = Annotated[
    str, AsciiCode, Field(min_length=6, max_length=6, examples=["330302"]), AfterValidator(_county_code)
]
TownshipCode = Annotated[
    str, AsciiCode, Field(min_length=12, max_length=12, examples=["330302001000"]), AfterValidator(_township_code)
]
CommunityCode = Annotated[
    str, AsciiCode, Field(min_length=12, max_length=12, examples=["330302001001"]), AfterValidator(_community_code)
]


def common_region(codes: list[str]) -> str:
    """The smallest region containing every one of ``codes`` (official code; one code is its own)."""
    if not codes:
        raise ValueError("no regions")
    first = official(codes[0])
    for candidate in [first, *ancestors(first)]:
        if all(contains(candidate, code) for code in codes):
            return candidate
    raise ValueError(f"{codes[0]} and the others share no province")
