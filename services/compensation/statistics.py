"""Reference statistics (C2, C3): what a region's pay target is computed from, each with its source.
The API sets one (``PUT /v1/reference-statistics/{region_code}/{year}/{kind}``), the statistics import
many; both store with :func:`store_statistics` (a statistic set again replaces the earlier one)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.models import ReferenceStatistic
from services.compensation.schemas import StatisticIn, StatisticKind
from shared.auth import Principal
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, require_write
from shared.writes import upsert

CHUNK = 5000  # rows per multi-row upsert (5 parameters each, under PostgreSQL's 32,767)
RULE = {
    StatisticKind.urban_disposable_income: "C2",
    StatisticKind.average_wage_all_employed: "C3",
    StatisticKind.community_worker_average_pay: "C2",
}


@dataclass(frozen=True)
class Statistic:
    region_code: str
    year: int
    kind: StatisticKind
    value: Decimal
    source: str


async def set_statistic(
    session: AsyncSession, principal: Principal, region_code: str, year: int, kind: StatisticKind, body: StatisticIn
) -> Statistic:
    """One statistic, by an administrator of the region (county and above)."""
    require_write(principal, region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    statistic = Statistic(region_code, year, kind, body.value, body.source)
    await store_statistics(session, [statistic])
    return statistic


async def store_statistics(session: AsyncSession, statistics: Sequence[Statistic]) -> int:
    """The statistics, set-based (multi-row upserts); the callers have checked them and their scope."""
    for start in range(0, len(statistics), CHUNK):
        rows = [
            {"region_code": s.region_code, "year": s.year, "kind": s.kind.value, "value": s.value, "source": s.source}
            for s in statistics[start : start + CHUNK]
        ]
        await upsert(session, ReferenceStatistic, rows, ["region_code", "year", "kind"])
    return len(statistics)
