"""Which accounts an administrator may see and manage, and which grants they may give.

A county admin manages only its county's accounts: an account is *visible* to an admin when one of its
active grants lies in the admin's region. The access-control rules (``docs/security.md``):

- **AC1** every object a write names (a worker bound to an account …) lies in the caller's scope, and
  in the account's own grants; the services check it again when the token is used.
- **AC2** an admin grants only rights it holds, only inside its own region: a role at or below its own
  rank where it administers, ``personal_data`` only where it holds that right itself, ``service`` only
  as a province admin. Each role belongs to a level of the region tree (a community secretary to a
  community, a county admin to a county …).
- **AC3** never to itself: an admin adds no grant to its own account.
- **AC4** an account holding anything the admin could not have granted (a grant outside its region, a
  wider role, a right it lacks) is read-only to it (403); an account with no grant in its region is
  invisible (404).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.gateway.models import PERSONAL_DATA
from shared.auth import ADMIN_ROLES, Principal, Role
from shared.regions import RegionLevel, contains, level

RULE_OBJECT_SCOPE = "AC1"
RULE_GRANT_HELD = "AC2"
RULE_NOT_SELF = "AC3"
RULE_READ_ONLY_ABOVE = "AC4"

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
    """AC2: the admin holds ``right`` over ``region`` itself (or a wider role there) and administers it."""
    if right not in GRANTABLE:
        return False
    admin_grants = [g for g in admin.grants if g.role in ADMIN_ROLES and contains(g.region, region)]
    if not admin_grants:
        return False
    if right == Role.service:
        return any(g.role == Role.province_admin for g in admin_grants)
    if right == PERSONAL_DATA:
        return admin.may_unmask(region)
    if right == Role.auditor:
        return True  # reads what an admin of the region reads, changes nothing
    return any(RANK[g.role] >= RANK[Role(right)] for g in admin_grants)


def is_self(admin: Principal, user_id: object) -> bool:
    """AC3: the account is the admin's own."""
    return admin.subject == f"user:{user_id}"


def _admin_regions(admin: Principal) -> list[str]:
    return admin.regions(ADMIN_ROLES)


def sees(admin: Principal, regions: Iterable[str]) -> bool:
    scopes = _admin_regions(admin)
    return any(contains(scope, region) for region in regions for scope in scopes)


def manages(admin: Principal, grants: Iterable[tuple[str, str]]) -> bool:
    """AC4: every grant of the account (``(right, region)`` pairs) is one the admin could have given."""
    grants = list(grants)
    return bool(grants) and all(may_grant(admin, right, region) for right, region in grants)
