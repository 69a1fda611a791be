"""Writing rows: a new row through the ORM, rows upserted by their key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from shared.problems import Problem

RowT = TypeVar("RowT")


async def inserted(session: AsyncSession, row: RowT) -> RowT:
    """``row`` added and flushed (INSERTed in the session's transaction), then read back with what the
    database filled in: its server defaults, generated id and trigger-set columns."""
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def added(session: AsyncSession, row: RowT, taken: Problem) -> RowT:
    """``row`` added and flushed (INSERTed in the session's transaction); a key of it already on record (a
    unique constraint the INSERT breaks) raises ``taken``, as a 409 ``Conflict`` says."""
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise taken from exc
    return row


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    touch: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ``rows`` (one row's values, or several rows naming the same columns, in one statement); a row
    whose ``keys`` are on record replaces the stored row's other columns instead, and sets ``touch`` too."""
    table = model.__table__
    assert isinstance(table, Table)
    values = [rows] if isinstance(rows, Mapping) else list(rows)
    statement = insert(table).values(values)
    replaced = {name: statement.excluded[name] for name in values[0] if name not in keys}
    await session.execute(
        statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=replaced | dict(touch or {}))
    )
