"""A list's paging in both of its modes, described once per list as a :class:`Listing`.

- **Keyset pages** in the list's order (:mod:`shared.pagination`): the cursor holds the last row's sort key
  and is tied to the filters; the next page starts past it.
- **Pull sync**, with ``updated_since`` (:mod:`shared.sync`): the rows whose last change committed since
  then, in commit order; the cursor holds a commit position and the row's id, and is always set.

A list's use case builds its filtered query (``select(Model)…``) and asks its listing for the page; the
listing orders, limits, reads and makes the next cursor, so every list pages the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, and_, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.pagination import Page, decode_cursor, encode_cursor, fetch_page
from shared.sync import synced_rows

T = TypeVar("T")


@dataclass(frozen=True)
class Key:
    """One column of a list's order, the kind of its value in a cursor (``int``, ``str``, ``uuid.UUID``,
    ``datetime.date`` or an aware ``datetime.datetime``; see ``decode_cursor``) and its direction."""

    column: InstrumentedAttribute[Any]
    kind: type
    descending: bool = False

    def held(self, row: Any) -> Any:
        """The row's value as a cursor holds it (ids, days and instants as text)."""
        value = getattr(row, self.column.key)
        if isinstance(value, date):  # a datetime too
            return value.isoformat()
        return str(value) if isinstance(value, uuid.UUID) else value

    def value(self, held: Any) -> Any:
        """A value a cursor held (checked by ``decode_cursor``) as the column compares with it."""
        if self.kind is date or self.kind is datetime:
            return self.kind.fromisoformat(held)
        return self.kind(held)

    def past(self, value: Any) -> ColumnElement[bool]:
        past: ColumnElement[bool] = self.column < value if self.descending else self.column > value
        return past

    def ordered(self) -> ColumnElement[Any]:
        return self.column.desc() if self.descending else self.column.asc()


@dataclass(frozen=True)
class Listing:
    """How one list pages: ``order``, its sort key (the last column unique, e.g. the id); ``commits``, the
    ``event_commits`` table of the model's service (``shared.events.commits_of``); ``sync_id``, the row id a
    pull-sync cursor holds (default: the model's UUID ``id``). The model is :class:`shared.sync.ChangeTracked`."""

    model: type[Any]
    order: tuple[Key, ...]
    commits: Table
    sync_id: Key | None = None

    def _sync_key(self) -> Key:
        return self.sync_id or Key(self.model.id, uuid.UUID)

    def _past(self, values: list[Any]) -> ColumnElement[bool]:
        """Rows after the sort key ``values`` in the list's order: a row comparison when every column runs
        one way (an index on them serves it); else (a past x) or (a = x and b past y) …"""
        keys = self.order
        if len(keys) > 1 and len({k.descending for k in keys}) == 1:
            columns, key = tuple_(*(k.column for k in keys)), tuple_(*values)
            return columns < key if keys[0].descending else columns > key
        return or_(
            *(
                and_(*(k.column == v for k, v in zip(keys[:i], values, strict=False)), keys[i].past(values[i]))
                for i in range(len(keys))
            )
        )

    async def rows(
        self,
        session: AsyncSession,
        query: Select[Any],
        *,
        filters: dict[str, Any],
        cursor: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> tuple[list[Any], str | None]:
        """One page of ``query``'s rows and the cursor of the next (none after the last keyset page). With
        ``updated_since`` the cursor is tied to the filters and to it (its ISO form, unless ``filters`` name
        it already)."""
        if updated_since is not None:
            sync_id = self._sync_key()
            synced, following = await synced_rows(
                session,
                query,
                commits=self.commits,
                change_txid=self.model.change_txid,
                row_id=sync_id.column,
                since=updated_since,
                cursor=cursor,
                limit=limit,
                filters={"updated_since": updated_since.isoformat()} | filters,
                id_of=sync_id.held,
                id_type=sync_id.kind,
            )
            return list(synced), following
        if cursor:
            held = decode_cursor(cursor, filters, [k.kind for k in self.order])
            query = query.where(self._past([k.value(v) for k, v in zip(self.order, held, strict=True)]))
        found, more = await fetch_page(session, query.order_by(*(k.ordered() for k in self.order)), limit)
        return found, encode_cursor([k.held(found[-1]) for k in self.order], filters) if more else None

    async def page(
        self,
        session: AsyncSession,
        query: Select[Any],
        item: Callable[[Any], T],
        *,
        filters: dict[str, Any],
        cursor: str | None,
        limit: int,
        updated_since: datetime | None = None,
    ) -> Page[T]:
        """:meth:`rows`, each shown by ``item``."""
        found, following = await self.rows(
            session, query, filters=filters, cursor=cursor, limit=limit, updated_since=updated_since
        )
        return Page[T](items=[item(r) for r in found], next_cursor=following)
