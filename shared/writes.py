"""Writing a new row through the ORM."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


async def inserted(session: AsyncSession, row: RowT) -> RowT:
    """``row`` added and flushed (INSERTed in the session's transaction), then read back with what the
    database filled in: its server defaults, generated id and trigger-set columns."""
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row
