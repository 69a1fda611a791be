"""The pay policy in force for a region and year: its own profile, else the nearest ancestor's, over the
city's preset (ARCHITECTURE rule 6)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy, preset_for, with_overrides
from services.compensation.models import PolicyProfile
from shared.regions import ancestors


def ancestors_and_self(code: str) -> list[str]:
    """Top down: 330000, 330300, 330302, 330302001000, 330302001001."""
    return [*reversed(ancestors(code)), code]


async def policy_for(session: AsyncSession, region_code: str, year: int) -> PayPolicy:
    return (await policies_for(session, [region_code], year))[region_code]


async def policies_for(session: AsyncSession, region_codes: Sequence[str], year: int) -> dict[str, PayPolicy]:
    """The policy of each region in one query (a province's run has 100-odd counties: a query each cost
    a fifth of its calculation, issue #16)."""
    chains = {code: ancestors_and_self(code) for code in region_codes}
    wanted = sorted({code for chain in chains.values() for code in chain})
    rows = {
        r.region_code: r
        for r in (
            await session.scalars(
                select(PolicyProfile)
                .where(PolicyProfile.year == year, PolicyProfile.region_code.in_(wanted))
                .execution_options(populate_existing=True)  # a profile just upserted by a Core statement
            )
        ).all()
    }
    policies: dict[str, PayPolicy] = {}
    for region_code, chain in chains.items():
        policy = preset_for(region_code)
        for code in chain:
            row = rows.get(code)
            if row is not None:
                policy = with_overrides(policy, row.preset, row.parameters)
        policies[region_code] = policy
    return policies
