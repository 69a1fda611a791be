"""Which accounts an administrator may see and manage, and which grants they may give.

A county admin manages only its county's accounts: an account is *visible* to an admin when one of its
active grants lies in the admin's region, and *managed* when all of them do. An admin grants a role
only in its own region and only at or below its own rank; each role belongs to a level of the region
tree (a community secretary to a community, a county admin to a county …).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.gateway.models import PERSONAL_DATA
from shared.auth import ADMIN_ROLES, Principal, Role
from shared.regions import RegionLevel, contains, level

RANK = {
    Role.worker: 0,
    Role.community_secretary: 1,
    Role.township_officer: 2,
    Role.county_admin: 3,
    Role.city_admin: 4,
    Role.province_admin: 5,
}
LEVEL_OF_ROLE: dict[str, set[RegionLevel]] = {
    Role.province_admin: {RegionLevel.province},
    Role.city_admin: {RegionLevel.city},
    Role.county_admin: {RegionLevel.county},
    Role.township_officer: {RegionLevel.township},
    Role.community_secretary: {RegionLevel.community},
    Role.worker: {RegionLevel.community},
    Role.service: {RegionLevel.province},
    Role.auditor: set(RegionLevel),
    PERSONAL_DATA: set(RegionLevel),
}
GRANTABLE = frozenset(LEVEL_OF_ROLE)


def fits_level(right: str, region: str) -> bool:
    """The region is at the level the role belongs to (a county admin at a county …)."""
    return level(region) in LEVEL_OF_ROLE[right]


def may_grant(admin: Principal, right: str, region: str) -> bool:
    admin_grants = [g for g in admin.grants if g.role in ADMIN_ROLES and contains(g.region, region)]
    if right == Role.service:
        return any(g.role == Role.province_admin for g in admin_grants)
    if right in (Role.auditor, PERSONAL_DATA):
        return bool(admin_grants)
    return any(RANK[g.role] >= RANK[Role(right)] for g in admin_grants)


def _admin_regions(admin: Principal) -> list[str]:
    return admin.regions(ADMIN_ROLES)


def sees(admin: Principal, regions: Iterable[str]) -> bool:
    scopes = _admin_regions(admin)
    return any(contains(scope, region) for region in regions for scope in scopes)


def manages(admin: Principal, regions: Iterable[str]) -> bool:
    scopes = _admin_regions(admin)
    regions = list(regions)
    return bool(regions) and all(any(contains(scope, region) for scope in scopes) for region in regions)
