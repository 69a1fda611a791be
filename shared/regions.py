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

_CODE = re.compile(r"^(\d{6}|\d{12})$")


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"
    township = "township"
    community = "community"


def is_region_code(code: str) -> bool:
    return bool(_CODE.match(code)) and not code.startswith("00")


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
