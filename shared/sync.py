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
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, or_

from shared.pagination import decode_cursor, encode_cursor


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


def encode_sync_cursor(position: int, row_id: uuid.UUID, filters: dict[str, Any]) -> str:
    return encode_cursor(["sync", position, str(row_id)], filters)


def decode_sync_cursor(cursor: str, filters: dict[str, Any]) -> tuple[int, uuid.UUID]:
    """(position, row id) of a sync cursor; 400 for any other (a paging cursor, other filters, forged)."""
    _, position, row_id = decode_cursor(cursor, filters, (str, int, uuid.UUID))
    return int(position), uuid.UUID(str(row_id))
