"""``shared.writes`` on the test run's PostgreSQL, in a throwaway schema: ``upsert`` inserts new keys and,
for a key on record, replaces every other column it is given (and ``touch``) while leaving the columns it
is not given alone; ``added`` answers the caller's problem (a 409) when the row's key is already on record.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import Integer, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import CreateSchema, DropSchema

from shared.db import schema_metadata
from shared.i18n import Message
from shared.problems import Conflict
from shared.writes import added, upsert


class Base(DeclarativeBase):
    metadata = schema_metadata(f"writestest_{uuid.uuid4().hex[:8]}")


class Cell(Base):
    __tablename__ = "cells"

    region: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(20))
    edits: Mapped[int] = mapped_column(Integer, server_default=text("0"))


@pytest_asyncio.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(database_url)
    schema = Base.metadata.schema
    assert schema
    async with engine.begin() as conn:
        await conn.execute(CreateSchema(schema))
        await conn.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as scratch:
        yield scratch
    async with engine.begin() as conn:
        await conn.execute(DropSchema(schema, cascade=True))
    await engine.dispose()


async def test_upsert_inserts_new_keys_and_replaces_the_given_columns_of_stored_ones(session: AsyncSession) -> None:
    await upsert(session, Cell, {"region": "110101", "year": 2026, "amount": 1, "note": "kept"}, ["region", "year"])
    await upsert(
        session,
        Cell,
        [{"region": "110101", "year": 2026, "amount": 2}, {"region": "110102", "year": 2026, "amount": 3}],
        ["region", "year"],
        touch={"edits": Cell.edits + 1},
    )
    stored = select(Cell.region, Cell.amount, Cell.note, Cell.edits).order_by(Cell.region)
    assert [tuple(r) for r in (await session.execute(stored)).all()] == [
        ("110101", 2, "kept", 1),
        ("110102", 3, None, 0),
    ]


async def test_added_raises_the_callers_problem_when_the_key_is_on_record(session: AsyncSession) -> None:
    taken = Conflict(Message("已存在", "Already on record"))
    first = await added(session, Cell(region="110101", year=2026, amount=1), taken)
    assert first.amount == 1
    session.expunge(first)  # as if another request had stored it: only the database knows the key
    with pytest.raises(Conflict) as raised:
        await added(session, Cell(region="110101", year=2026, amount=2), taken)
    assert raised.value is taken
