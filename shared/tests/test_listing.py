"""``shared.listing``: a list's keyset pages, whatever its order (columns of every cursor kind, each
ascending or descending, ties in the leading columns), serve every row exactly once, in the order the
list declares; and a cursor holds its sort key exactly, refusing (400) one that is not of its kinds.

Runs on the real PostgreSQL of the test run, in a scratch schema of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, String, Table, delete, insert, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import schema_metadata
from shared.listing import Key, Listing
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import BadRequest

SCHEMA = f"listingtest_{uuid.uuid4().hex[:8]}"


class Base(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    n: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(8))


# Keyset pages never read it (pull sync does, see tests/integration/test_list_sync.py).
COMMITS = Table("event_commits", Base.metadata, Column("txid", BigInteger, primary_key=True))
COLUMNS = {"day": (Item.day, date), "at": (Item.at, datetime), "n": (Item.n, int), "name": (Item.name, str)}
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

ROW = st.tuples(
    st.integers(0, 3).map(lambda d: date(2026, 1, 1) + timedelta(days=d)),
    st.integers(0, 3).map(lambda s: EPOCH + timedelta(seconds=s, microseconds=s * 7)),
    st.integers(-2, 2),
    st.text("abc", max_size=3),
)
ORDER = st.lists(st.sampled_from(sorted(COLUMNS)), unique=True, max_size=4).flatmap(
    lambda names: st.tuples(st.just(names), st.lists(st.booleans(), min_size=len(names) + 1, max_size=len(names) + 1))
)


def _sorted(rows: list[dict[str, Any]], names: list[str], descending: list[bool]) -> list[uuid.UUID]:
    """The rows in the declared order (the id last), by stable sorts from the last column to the first."""
    out = list(rows)
    for name, down in reversed(list(zip([*names, "id"], descending, strict=True))):
        out.sort(key=_value_of(name), reverse=down)
    return [r["id"] for r in out]


def _value_of(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[name]


def test_keyset_pages_serve_every_row_once_in_the_declared_order(database_url: str) -> None:
    """Property (hypothesis): any rows, any order over the four cursor kinds (ties in the leading columns
    broken by the id), any page size: reading page after page gives the rows once each, in that order, and
    the last page says there is no next one."""
    loop = asyncio.new_event_loop()
    engine = create_async_engine(database_url)

    async def create() -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
            await conn.run_sync(Base.metadata.create_all)

    async def scenario(rows: list[tuple[date, datetime, int, str]], order: Any, limit: int) -> None:
        names, descending = order
        keys = tuple(Key(*COLUMNS[name], descending=down) for name, down in zip(names, descending, strict=False))
        listing = Listing(Item, (*keys, Key(Item.id, uuid.UUID, descending=descending[-1])), COMMITS)
        stored = [{"id": uuid.uuid4(), "day": d, "at": a, "n": n, "name": s} for d, a, n, s in rows]
        async with async_sessionmaker(engine)() as session, session.begin():
            await session.execute(delete(Item))
            if stored:
                await session.execute(insert(Item), stored)
            served: list[uuid.UUID] = []
            cursor: str | None = None
            filters = {"order": names, "descending": descending}
            for _ in range(len(stored) + 1):
                page = await listing.page(
                    session, select(Item), lambda i: i.id, filters=filters, cursor=cursor, limit=limit
                )
                assert len(page.items) <= limit
                served.extend(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert cursor is None
            assert served == _sorted(stored, names, descending)
            await session.rollback()

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=st.lists(ROW, max_size=12), order=ORDER, limit=st.integers(1, 4))
    def property_(rows: list[tuple[date, datetime, int, str]], order: Any, limit: int) -> None:
        loop.run_until_complete(scenario(rows, order, limit))

    loop.run_until_complete(create())
    try:
        property_()
    finally:

        async def drop() -> None:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{SCHEMA}" CASCADE'))
            await engine.dispose()

        loop.run_until_complete(drop())
        loop.close()


VALUES = st.one_of(
    st.tuples(st.just(int), st.integers(-(2**63), 2**63 - 1)),
    st.tuples(st.just(str), st.text(max_size=50).filter(lambda s: "\x00" not in s)),
    st.tuples(st.just(uuid.UUID), st.uuids()),
    st.tuples(st.just(date), st.dates()),
    st.tuples(st.just(datetime), st.datetimes(timezones=st.just(UTC))),
)


@settings(max_examples=200)
@given(values=st.lists(VALUES, min_size=1, max_size=3), filters=st.dictionaries(st.text(max_size=5), st.integers()))
def test_a_cursor_holds_its_sort_key_exactly(values: list[tuple[type, Any]], filters: dict[str, int]) -> None:
    """Property: each kind's value, as a cursor holds it (``Key.held``) and read back (``Key.value``), is the
    row's own; tied to other filters the cursor is refused."""
    keys = [Key(Item.n, kind) for kind, _ in values]  # the column is not read: only the kind matters here
    row_values = [SimpleNamespace(n=value) for _, value in values]
    cursor = encode_cursor([k.held(r) for k, r in zip(keys, row_values, strict=True)], filters)
    held = decode_cursor(cursor, filters, [k.kind for k in keys])
    assert [k.value(h) for k, h in zip(keys, held, strict=True)] == [v for _, v in values]
    with pytest.raises(BadRequest):
        decode_cursor(cursor, filters | {"~other~": 1}, [k.kind for k in keys])


@pytest.mark.parametrize("forged", ["not a time", "2026-01-01T00:00:00", "2026-13-01T00:00:00+00:00", 5])
def test_a_cursor_whose_instant_is_not_an_aware_time_is_refused(forged: Any) -> None:
    """A forged instant is a 400 naming the cursor, never an error of the database (the lists sort by
    timestamptz: a cursor made by a list always holds an aware time)."""
    cursor = encode_cursor([forged, str(uuid.uuid4())], {})
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, {}, (datetime, uuid.UUID))
    assert refused.value.errors[0].field == "cursor"
