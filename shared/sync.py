"""Pull sync of a list: ``updated_since`` and a cursor in **commit order**, so a platform paging through
changes never misses a row whose transaction commits late.

The idea is the outbox's (:mod:`shared.events`): a trigger stamps each written row with its
transaction's id (``change_txid``), and the outbox's deferred trigger numbers that transaction in
``event_commits`` as it commits, under the outbox lock, so positions become visible in increasing
order. A follower pages by (position, row id): a transaction that commits after the follower read past
position *p* gets a position above *p*, so its rows come later, never behind the cursor — even when
their ``updated_at`` (taken when the statement ran) is older than rows already read.

``updated_since`` selects the rows whose last change *committed* at or after that time (a change
stamped earlier that committed later is included); keep passing it, with the cursor, to follow on. A
row changed again moves to its new position (it is served again, once, with its new content). Rows
are never deleted by the services that sync: leaving and ending are status changes with their
``updated_at``, so a follower sees them like any other change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime
from sqlalchemy import BigInteger, Select, Table, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.events import CURRENT_TXID
from shared.pagination import decode_cursor, encode_cursor

SYNC_DESCRIPTION = (
    "变更同步 pull sync: the rows whose last change committed at or after this time, in commit order; keep "
    "passing `updated_since` with `next_cursor` (always set in this mode) to follow on: a change that commits "
    "late is never behind the cursor"
)
UpdatedSince = Annotated[AwareDatetime | None, Query(description=SYNC_DESCRIPTION)]
"""The ``updated_since`` parameter of a list operation (every list documents it the same way)."""


class ChangeTracked:
    """A declarative mixin: the row's ``change_txid`` for pull sync of the list it is served in. Its
    migration creates, as ``roster_0009`` did for workers, a BEFORE UPDATE trigger stamping it (insert
    takes the column default) and the outbox's deferred ``events_commit_position`` trigger on every
    write, which numbers the writing transaction in ``event_commits`` as it commits."""

    change_txid: Mapped[int] = mapped_column(
        BigInteger, server_default=CURRENT_TXID, comment="the transaction that last wrote the row (pull sync)"
    )


def in_commit_order(
    query: Select[Any],
    commits: Table,
    change_txid: Any,
    row_id: Any,
    since: datetime | None,
    after: tuple[int, uuid.UUID] | None,
) -> Select[Any]:
    """``query`` (rows of one table) with each row's commit position, after ``after``, in commit order."""
    query = query.add_columns(commits.c.position).join(commits, commits.c.txid == change_txid)
    if since is not None:
        query = query.where(commits.c.committed_at >= since)
    if after is not None:
        position, last = after
        query = query.where(or_(commits.c.position > position, and_(commits.c.position == position, row_id > last)))
    return query.order_by(commits.c.position, row_id)


def encode_sync_cursor(position: int, row_id: Any, filters: dict[str, Any]) -> str:
    return encode_cursor(["sync", position, row_id if isinstance(row_id, int) else str(row_id)], filters)


def decode_sync_cursor(cursor: str, filters: dict[str, Any], id_type: type = uuid.UUID) -> tuple[int, Any]:
    """(position, row id) of a sync cursor; 400 for any other (a paging cursor, other filters, forged)."""
    _, position, row_id = decode_cursor(cursor, filters, (str, int, id_type))
    return int(position), id_type(str(row_id))


async def synced_rows(
    session: AsyncSession,
    query: Select[Any],
    *,
    commits: Table,
    change_txid: Any,
    row_id: Any,
    since: datetime,
    cursor: str | None,
    limit: int,
    filters: dict[str, Any],
    id_of: Any = None,
    id_type: type = uuid.UUID,
) -> tuple[Sequence[Any], str | None]:
    """One page of a list in pull-sync mode: the rows (of ``query``, one entity) whose last change
    committed at or after ``since``, after the cursor, in commit order; and the cursor to follow on from
    (always set: the same one when nothing new has committed). ``id_of(row)``: the row's id for the
    cursor (default ``row.id``)."""
    after = decode_sync_cursor(cursor, filters, id_type) if cursor else None
    synced = in_commit_order(query, commits, change_txid, row_id, since, after)
    pairs = (await session.execute(synced.limit(limit))).all()
    rows = [p[0] for p in pairs]
    if not rows:
        return rows, cursor
    last = id_of(rows[-1]) if id_of is not None else rows[-1].id
    return rows, encode_sync_cursor(pairs[-1][-1], last, filters)
