"""Region lists (children, descendants) in keyset pages by path, or for pull sync (``updated_since``):
the regions whose last change committed since then, in commit order (``shared.sync``); and the regions
as the API shows them, with the staffing each community needs this year (S1–S4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.staffing import required_staff
from services.roster.models import Region, StaffingPolicyOverride, events
from services.roster.regions import policy_overrides, resolve_policy, visible_region
from services.roster.schemas import RegionOut
from shared.auth import Principal
from shared.events import commits_of
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.read_models import from_row
from shared.regions import RegionLevel, ancestors, scope_prefix
from shared.scoping import path_filter

REGIONS = Listing(Region, (Key(Region.path, str),), commits_of(events), sync_id=Key(Region.code, str))
"""By path (a region's subtree follows it); pull sync by code."""


async def region_out(session: AsyncSession, region: Region) -> RegionOut:
    return (await regions_out(session, [region]))[0]


async def regions_out(session: AsyncSession, regions: list[Region]) -> list[RegionOut]:
    """Regions with the staffing each community needs this year; the policies are read once for all."""
    overrides = await policy_overrides(session, datetime.now(UTC).year)
    return [region_view(r, overrides) for r in regions]


def region_view(region: Region, overrides: dict[str, StaffingPolicyOverride]) -> RegionOut:
    required = None
    if region.level == RegionLevel.community and region.kind:
        policy = resolve_policy(overrides, region.code)
        required = required_staff(region.kind, region.households, region.extra_staff, policy)[0]
    return from_row(RegionOut, region, required_staff=required)


async def children(at: PageAt, principal: Principal, code: str, updated_since: datetime | None) -> Page[RegionOut]:
    """The children of a region the caller sees."""
    await visible_region(at.session, principal, code)
    query = select(Region).where(Region.parent_code == code, path_filter(principal, Region.path))
    return await _page(at, query, {"children": code}, updated_since)


async def descendants(
    at: PageAt, principal: Principal, code: str, level: RegionLevel | None, updated_since: datetime | None
) -> Page[RegionOut]:
    """Every region below one the caller sees (of one level, if given)."""
    region = await visible_region(at.session, principal, code)
    query = select(Region).where(
        Region.path.startswith(scope_prefix(region.code)), Region.code != code, path_filter(principal, Region.path)
    )
    if level is not None:
        query = query.where(Region.level == level.value)
    return await _page(at, query, {"descendants": code, "level": level}, updated_since)


async def _page(at: PageAt, query: Any, filters: dict[str, Any], updated_since: datetime | None) -> Page[RegionOut]:
    rows, next_cursor = await REGIONS.rows(
        at.session, query, filters=filters, cursor=at.cursor, limit=at.limit, updated_since=updated_since
    )
    return Page[RegionOut](items=await regions_out(at.session, rows), next_cursor=next_cursor)


async def ancestors_of(session: AsyncSession, principal: Principal, code: str) -> list[RegionOut]:
    """The visible region's ancestors in the tree, nearest first."""
    await visible_region(session, principal, code)
    nearest_first = ancestors(code)
    rows = {r.code: r for r in (await session.scalars(select(Region).where(Region.code.in_(nearest_first)))).all()}
    return await regions_out(session, [rows[c] for c in nearest_first if c in rows])
