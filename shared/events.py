"""Transactional outbox and the change feed (ARCHITECTURE rule 4).

A change and its event row are written in one transaction (:func:`record_event`, then the request's
commit). The feed ``GET /v1/events?after=<cursor>`` orders events by (transaction id, event id) and serves
only events of transactions older than the oldest one still running (``pg_snapshot_xmin``). So an
event that commits late can never appear *behind* a cursor a consumer already holds: a consumer never
skips one, even when transactions commit out of order. The price: one long transaction holds the feed
back until it ends. Feeds may repeat an event after a consumer crash; consumers apply idempotently.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require
from shared.db import SessionDep
from shared.i18n import Message
from shared.problems import BadRequest, Forbidden, problem_responses
from shared.regions import RegionLevel, level
from shared.request_context import current_request_id

# xid8 as a bigint: 64-bit transaction ids fit, and bigint sorts and indexes like any number.
CURRENT_TXID = text("(pg_current_xact_id()::text)::bigint")
OLDEST_RUNNING_TXID = text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


def outbox_table(metadata: MetaData) -> Table:
    """The ``events`` table of a service, in the service's own schema."""
    return Table(
        "events",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("txid", BigInteger, nullable=False, server_default=CURRENT_TXID),
        Column("type", String(100), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("request_id", String(128), nullable=True),
        Column("data", JSONB, nullable=False),
        Index("events_txid_id_idx", "txid", "id"),
    )


async def record_event(session: AsyncSession, table: Table, type_: str, subject: str, data: dict[str, Any]) -> None:
    """Write an event in the session's transaction; it is published when that transaction commits."""
    await session.execute(
        table.insert().values(type=type_, subject=subject, data=data, request_id=current_request_id())
    )


def encode_cursor(txid: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{txid}.{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        txid, event_id = raw.split(".")
        return int(txid), int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(Message("游标无效：{cursor}", "Invalid cursor: {cursor}"), cursor=cursor[:64]) from exc


class Event(BaseModel):
    """One change, as published."""

    id: int = Field(description="事件编号 event id")
    cursor: str = Field(description="游标 pass as ?after= to read the events after this one")
    type: str = Field(description="事件类型 e.g. worker.hired, post.assigned, assessment.finalized")
    occurred_at: datetime = Field(description="发生时间 UTC")
    request_id: str | None = Field(description="请求编号 the X-Request-ID of the change")
    subject: str = Field(description="主体 what changed, e.g. worker/123")
    data: dict[str, Any] = Field(description="事件内容 the event's payload")


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None = Field(
        description="下一页游标 pass as ?after= next time; equals `after` when nothing new has committed"
    )


async def read_feed(session: AsyncSession, table: Table, after: str | None, limit: int) -> EventPage:
    """Events after ``after`` in (txid, id) order, only of transactions no running one can precede."""
    query = select(table).where(table.c.txid < OLDEST_RUNNING_TXID)
    if after:
        query = query.where(tuple_(table.c.txid, table.c.id) > tuple_(*decode_cursor(after)))
    query = query.order_by(table.c.txid, table.c.id).limit(limit)
    rows = (await session.execute(query)).mappings().all()
    items = [
        Event(
            id=row["id"],
            cursor=encode_cursor(row["txid"], row["id"]),
            type=row["type"],
            occurred_at=row["occurred_at"],
            request_id=row["request_id"],
            subject=row["subject"],
            data=row["data"],
        )
        for row in rows
    ]
    return EventPage(items=items, next_cursor=items[-1].cursor if items else after)


def events_router(table: Table) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["events"])

    @router.get(
        "/events",
        summary="变更事件流 change feed (transactional outbox); never skips, may repeat",
        response_model=EventPage,
        responses=problem_responses(400, 401, 403),
    )
    async def list_events(
        session: SessionDep,
        principal: Annotated[Principal, require(Role.service, Role.province_admin, Role.auditor)],
        after: str | None = Query(None, description="游标 the next_cursor of the previous page"),
        limit: int = Query(100, ge=1, le=1000, description="每页条数 page size"),
    ) -> EventPage:
        # The feed holds every region's changes: besides the suite's own services, only province-wide readers.
        if not principal.has_any([Role.service]) and not any(
            level(region) == RegionLevel.province for region in principal.regions([Role.province_admin, Role.auditor])
        ):
            raise Forbidden(Message("变更事件流仅限省级", "The change feed is for province-wide callers only"))
        return await read_feed(session, table, after, limit)

    return router
