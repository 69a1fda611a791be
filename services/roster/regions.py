"""Region tree access: loading with scope, the tree's levels, and the staffing policy in force."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.staffing_policy import StaffingPolicy, from_overrides, preset_for
from services.roster.models import Region, StaffingPolicyOverride
from shared.auth import Principal
from shared.problems import NotFound
from shared.regions import RegionLevel, ancestors
from shared.scoping import NO_SUCH_REGION, sees_region

LEVELS = [RegionLevel.province, RegionLevel.city, RegionLevel.county, RegionLevel.township, RegionLevel.community]


async def visible_region(session: AsyncSession, principal: Principal, code: str, *, lock: bool = False) -> Region:
    query = select(Region).where(Region.code == code)
    if lock:
        query = query.with_for_update()
    region = await session.scalar(query)
    if region is None or not sees_region(principal, code):
        raise NotFound(NO_SUCH_REGION, code=code)
    return region


async def staffing_policy(session: AsyncSession, region_code: str, year: int) -> StaffingPolicy:
    """The region's own parameters for the year, else the nearest ancestor's, over the city preset."""
    overrides = await policy_overrides(session, year)
    return resolve_policy(overrides, region_code)


async def policy_overrides(session: AsyncSession, year: int) -> dict[str, StaffingPolicyOverride]:
    rows = (await session.scalars(select(StaffingPolicyOverride).where(StaffingPolicyOverride.year == year))).all()
    return {row.region_code: row for row in rows}


def resolve_policy(overrides: dict[str, StaffingPolicyOverride], region_code: str) -> StaffingPolicy:
    policy = preset_for(region_code)
    # Apply from the top down: a county's values override its city's.
    for code in reversed([region_code, *ancestors(region_code)]):
        row = overrides.get(code)
        if row is not None:
            policy = from_overrides(policy, row.parameters | {"source": row.source})
    return policy
