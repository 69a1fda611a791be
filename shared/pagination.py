"""Keyset (cursor) pagination: ``limit`` 1–500 (default 50), an opaque ``cursor`` tied to its filters.

A cursor holds the sort key of the last item returned and a digest of the filters that made it; used
with other filters it is refused (400) rather than silently skipping or repeating rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.i18n import Message
from shared.problems import BadRequest

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="下一页游标 pass as ?cursor= for the next page; null on the last")


def _digest(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(key: list[Any], filters: dict[str, Any]) -> str:
    raw = json.dumps({"k": key, "f": _digest(filters)}, default=str, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: dict[str, Any]) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, digest = data["k"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BadRequest(Message("游标无效", "Invalid cursor")) from exc
    if digest != _digest(filters) or not isinstance(key, list):
        raise BadRequest(Message("游标与本次查询条件不符", "The cursor belongs to other filters"))
    return key


async def fetch_page(session: AsyncSession, query: Select[Any], limit: int) -> tuple[list[Any], bool]:
    """The rows of one page of an ordered keyset ``query`` (already past the cursor), and whether more follow."""
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit
