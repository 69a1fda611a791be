"""Writing a new row through the ORM."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
