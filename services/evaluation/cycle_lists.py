"""The list of assessment cycles (E1): the cycles of the caller's regions, filtered by region, year and
status, newest year first then by township, keyset-paged (and exported batch after batch by the router);
or, for pull sync (``updated_since``), the cycles whose last change committed since then, in commit order
(``shared.sync``): a cycle closed moves to its new position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.evaluation.models import Cycle, events
from services.evaluation.schemas import CycleOut
from shared.auth import Principal
from shared.events import commits_of
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt
from shared.regions import scope_prefix
from shared.scoping import path_filter

CYCLES = Listing(Cycle, (Key(Cycle.year, int, descending=True), Key(Cycle.township_code, str)), commits_of(events))
"""Newest year first, then by township."""


@dataclass(frozen=True)
class CycleFilters:
    region: str | None = None
    year: int | None = None
    status: str | None = None
    updated_since: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"region": self.region, "year": self.year, "status": self.status}
        if self.updated_since is not None:
            out["updated_since"] = self.updated_since.isoformat()
        return out


async def cycle_page(at: PageAt, principal: Principal, filters: CycleFilters) -> Page[CycleOut]:
    """One page of the cycles the principal sees (their regions' townships), past ``at.cursor``."""
    query = select(Cycle).where(path_filter(principal, Cycle.township_code))
    if filters.region:
        query = query.where(Cycle.township_code.startswith(scope_prefix(filters.region)))
    if filters.year is not None:
        query = query.where(Cycle.year == filters.year)
    if filters.status:
        query = query.where(Cycle.status == filters.status)
    return await CYCLES.page(
        at.session,
        query,
        _cycle_out,
        filters=filters.as_dict(),
        cursor=at.cursor,
        limit=at.limit,
        updated_since=filters.updated_since,
    )


def _cycle_out(cycle: Cycle) -> CycleOut:
    return CycleOut.model_validate(cycle, from_attributes=True)
