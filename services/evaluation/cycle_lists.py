"""The list of assessment cycles (E1): the cycles of the caller's regions, filtered by region, year and
status, newest year first then by township, keyset-paged (and exported batch after batch by the router);
or, for pull sync (``updated_since``), the cycles whose last change committed since then, in commit order
(``shared.sync``): a cycle closed moves to its new position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import Cycle, events
from services.evaluation.schemas import CycleOut
from shared.auth import Principal
from shared.events import commits_of
from shared.pagination import Page, decode_cursor, encode_cursor, fetch_page
from shared.regions import scope_prefix
from shared.scoping import path_filter
from shared.sync import synced_rows


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


async def cycle_page(
    session: AsyncSession, principal: Principal, filters: CycleFilters, cursor: str | None, limit: int
) -> Page[CycleOut]:
    """One page of the cycles the principal sees (their regions' townships), past ``cursor``."""
    query = select(Cycle).where(path_filter(principal, Cycle.township_code))
    if filters.region:
        query = query.where(Cycle.township_code.startswith(scope_prefix(filters.region)))
    if filters.year is not None:
        query = query.where(Cycle.year == filters.year)
    if filters.status:
        query = query.where(Cycle.status == filters.status)
    if filters.updated_since is not None:
        synced, following = await synced_rows(
            session,
            query,
            commits=commits_of(events),
            change_txid=Cycle.change_txid,
            row_id=Cycle.id,
            since=filters.updated_since,
            cursor=cursor,
            limit=limit,
            filters=filters.as_dict(),
        )
        return Page[CycleOut](
            items=[CycleOut.model_validate(c, from_attributes=True) for c in synced], next_cursor=following
        )
    if cursor:
        year, township = decode_cursor(cursor, filters.as_dict(), (int, str))
        query = query.where(or_(Cycle.year < year, and_(Cycle.year == year, Cycle.township_code > township)))
    rows, more = await fetch_page(session, query.order_by(Cycle.year.desc(), Cycle.township_code), limit)
    next_cursor = encode_cursor([rows[-1].year, rows[-1].township_code], filters.as_dict()) if more else None
    return Page[CycleOut](
        items=[CycleOut.model_validate(c, from_attributes=True) for c in rows], next_cursor=next_cursor
    )
