"""What every consumer of a change feed does with a versioned record: keep the newest copy.

``upsert_newer`` inserts the record or replaces the stored copy when the event's version is at least the
stored one (the feed may repeat an event or, after a replay, bring an older one: it changes nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def upsert_newer(
    session: AsyncSession, model: type[DeclarativeBase], key: str, values: dict[str, Any], version: str
) -> bool:
    """Store ``values`` unless a newer version is stored; whether they were stored."""
    table = model.__table__
    assert isinstance(table, Table)
    statement = insert(table).values(**values)
    stored = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={k: statement.excluded[k] for k in values if k != key},
            where=table.c[version] <= statement.excluded[version],
        ).returning(table.c[key])
    )
    return stored is not None
