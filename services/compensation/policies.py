"""The pay policy in force for a region and year: its own profile, else the nearest ancestor's, over the
city's preset (ARCHITECTURE rule 6)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.policy import PayPolicy, preset_for, with_overrides
from services.compensation.models import PolicyProfile


def ancestors_and_self(code: str) -> list[str]:
    """Top down: 330000, 330300, 330302, 330302001000, 330302001001."""
    full = code.ljust(12, "0")
    chain = [full[:2] + "0000", full[:4] + "00", full[:6], full[:9] + "000", full]
    out: list[str] = []
    for c in chain:
        short = c[:6] if c[6:] == "000000" else c
        if short not in out:
            out.append(short)
        if short == code:
            break
    return out


async def policy_for(session: AsyncSession, region_code: str, year: int) -> PayPolicy:
    chain = ancestors_and_self(region_code)
    rows = {
        r.region_code: r
        for r in (
            await session.scalars(
                select(PolicyProfile).where(PolicyProfile.year == year, PolicyProfile.region_code.in_(chain))
            )
        ).all()
    }
    policy = preset_for(region_code)
    for code in chain:
        row = rows.get(code)
        if row is not None:
            policy = with_overrides(policy, row.preset, row.parameters)
    return policy
