"""Keyset (cursor) pagination: ``limit`` 1–500 (default 50), an opaque ``cursor`` tied to its filters.

A cursor holds the sort key of the last item returned and a digest of the filters that made it; used
with other filters it is refused (400) rather than silently skipping or repeating rows, and so is one whose
sort key is not of the kinds the list sorts by (a forged or truncated cursor must not reach SQL as a 500).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.i18n import Message
from shared.problems import BadRequest, FieldError

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR = 2000  # characters: a real cursor is a few dozen
MAX_KEY_TEXT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="下一页游标 pass as ?cursor= for the next page; null on the last")


@dataclass(frozen=True)
class PageAt:
    """The page a paged list is asked for: read with ``session``, after ``cursor``, ``limit`` rows. A list route's
    function is given it (:func:`shared.list_answers.paged_route`) and hands it to its use case."""

    session: AsyncSession
    cursor: str | None
    limit: int


def _digest(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(key: list[Any], filters: dict[str, Any]) -> str:
    raw = json.dumps({"k": key, "f": _digest(filters)}, default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _invalid(detail: Message) -> BadRequest:
    return BadRequest(detail, errors=[FieldError.of("cursor", detail, pointer="/query/cursor", type="cursor")])


_INVALID = Message("游标无效", "Invalid cursor")


def _sort_value(value: Any, kind: type) -> Any:
    """One sort-key value of a cursor as ``kind``; ``ValueError`` when it is not one (a forged cursor)."""
    if kind is int:
        if type(value) is not int or not -(2**63) <= value < 2**63:  # BIGINT
            raise ValueError(value)
        return value
    if not isinstance(value, str) or len(value) > MAX_KEY_TEXT or "\x00" in value:
        raise ValueError(value)
    if kind is uuid.UUID:
        return str(uuid.UUID(value))
    if kind is datetime:
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:  # the lists sort by timestamptz: a cursor made here is always aware
            raise ValueError(value)
        return instant.isoformat()
    if kind is date:
        return date.fromisoformat(value).isoformat()
    return value


def decode_cursor(cursor: str, filters: dict[str, Any], shape: Sequence[type] | None = None) -> list[Any]:
    """The sort key in ``cursor``, refused (400, naming ``cursor``) unless it is one this list made.

    A cursor is opaque but not secret, so its key is checked before it reaches SQL: ``shape`` gives the
    kind of each value (``int`` within BIGINT, ``str``; a ``uuid.UUID``, ``datetime.date`` or aware
    ``datetime.datetime`` comes back as its text); without it every value must be such an int or a string
    of at most 500 characters.
    """
    if len(cursor) > MAX_CURSOR:
        raise _invalid(_INVALID)
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, digest = data["k"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise _invalid(_INVALID) from exc
    if digest != _digest(filters) or not isinstance(key, list):
        raise _invalid(Message("游标与本次查询条件不符", "The cursor belongs to other filters"))
    kinds = list(shape) if shape is not None else [int if type(v) is int else str for v in key]
    if len(kinds) != len(key):
        raise _invalid(_INVALID)
    try:
        return [_sort_value(value, kind) for value, kind in zip(key, kinds, strict=True)]
    except ValueError as exc:
        raise _invalid(_INVALID) from exc


async def fetch_page(session: AsyncSession, query: Select[Any], limit: int) -> tuple[list[Any], bool]:
    """The rows of one page of an ordered keyset ``query`` (already past the cursor), and whether more follow."""
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit
