"""Transactional outbox and the change feed (ARCHITECTURE rule 4).

A change and its event rows are written in one transaction (:func:`record_event`, then the request's
commit). The feed ``GET /v1/events?after=<cursor>`` serves events in **commit order**, and never skips
one, whatever else runs on the PostgreSQL server.

How: a deferred constraint trigger on ``events`` runs as the writing transaction commits. It takes the
outbox's transaction-scoped advisory lock and gives the transaction the next *position* (one row in
``event_commits``: position, txid). The lock is released only after the commit is visible to every new
snapshot (PostgreSQL ends a transaction in the proc array before it releases its locks), so positions
become visible in increasing order: a reader that sees position *p* sees every committed position
below *p*, and any transaction still to commit gets a position above every one already visible. A
cursor (position, event id) therefore never passes an event that commits later. Writers of one service
queue on that lock only for the instant of their commit; a transaction that stays open anywhere else
(an analyst's ``psql``, a slow report, another database of the cluster) no longer holds any feed back.

Feeds may repeat an event after a consumer crash; consumers apply idempotently. Cursors of the earlier
design (transaction id, event id) are still accepted: the migration gave existing transactions
positions in transaction-id order, which is the order that feed served them in.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    String,
    Table,
    event,
    func,
    or_,
    select,
    text,
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
COMMITS_TABLE = "event_commits"


def outbox_lock_key(schema: str) -> int:
    """The advisory lock (one bigint) that orders the commits of ``schema``'s outbox; stable across processes."""
    return zlib.crc32(f"shegong.outbox.{schema}".encode()) + (1 << 40)


def commit_order_ddl(schema: str) -> list[str]:
    """The trigger that gives each outbox-writing transaction its position as it commits.

    Migrations carry their own copy of these statements (a migration never changes after release);
    this one is for ``metadata.create_all`` (scratch schemas in tests).
    """
    # The schema is the service's own constant, never input.
    return [
        f"""
        CREATE FUNCTION "{schema}".events_commit_position() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            tx bigint := (pg_current_xact_id()::text)::bigint;
        BEGIN
            -- Once per transaction: the first of its events to reach here numbers the whole transaction.
            IF NOT EXISTS (SELECT 1 FROM "{schema}".{COMMITS_TABLE} WHERE txid = tx) THEN
                -- Held until the commit is visible: positions become visible in increasing order.
                PERFORM pg_advisory_xact_lock({outbox_lock_key(schema)});
                INSERT INTO "{schema}".{COMMITS_TABLE} (txid) VALUES (tx);
            END IF;
            RETURN NULL;
        END
        $$
        """,  # noqa: S608
        f"""
        CREATE CONSTRAINT TRIGGER events_commit_position AFTER INSERT ON "{schema}".events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".events_commit_position()
        """,
    ]


def outbox_table(metadata: MetaData) -> Table:
    """The ``events`` table of a service (and ``event_commits``, its commit order), in the service's schema."""
    schema = metadata.schema
    assert schema
    commits = Table(
        COMMITS_TABLE,
        metadata,
        Column(
            "position",
            BigInteger,
            Identity(always=True),
            primary_key=True,
            comment="commit order of the outbox: allocated under the outbox lock as the transaction commits",
        ),
        Column("txid", BigInteger, nullable=False, unique=True, comment="the transaction whose events these are"),
        Column("committed_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    )
    events = Table(
        "events",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("txid", BigInteger, nullable=False, server_default=CURRENT_TXID),
        Column("type", String(100), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("request_id", String(128), nullable=True),
        Column("data", JSONB, nullable=False),
        Column(
            "region_code",
            String(12),
            nullable=True,
            comment="the region the change belongs to (official code); webhooks deliver it only inside this region",
        ),
        Index("events_txid_id_idx", "txid", "id"),
    )
    for statement in commit_order_ddl(schema):
        event.listen(events, "after_create", DDL(statement))  # type: ignore[no-untyped-call]
    # create_all makes event_commits before events only if told: the trigger function names it.
    events.add_is_dependent_on(commits)
    return events


def commits_of(events: Table) -> Table:
    """The ``event_commits`` table beside an ``events`` table."""
    return events.metadata.tables[f"{events.schema}.{COMMITS_TABLE}"]


# Members of an event's data that name its region, most specific first (event_region).
REGION_MEMBERS = ("community_code", "township_code", "county_code", "region_code")


def event_region(data: dict[str, Any]) -> str | None:
    """The region an event belongs to, read from its data: the most specific region member it carries."""
    for member in REGION_MEMBERS:
        value = data.get(member)
        if isinstance(value, str) and value:
            return value
    return None


async def record_event(
    session: AsyncSession,
    table: Table,
    type_: str,
    subject: str,
    data: dict[str, Any],
    *,
    region_code: str | None = None,
) -> None:
    """Write an event in the session's transaction; it is published when that transaction commits.

    ``region_code`` is the region the change belongs to (default: the most specific region member of
    ``data``); an event without one is never sent to a webhook subscriber, whose subscriptions are
    bounded by region.
    """
    await session.execute(
        table.insert().values(
            type=type_,
            subject=subject,
            data=data,
            request_id=current_request_id(),
            region_code=region_code or event_region(data),
        )
    )


# A cursor is "p<position>.<event id>"; one of the first design is "<txid>.<event id>" (see the module doc).
def encode_cursor(position: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}.{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[bool, int, int]:
    """(legacy, position or txid, event id)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        legacy = not raw.startswith("p")
        first, event_id = raw.removeprefix("p").split(".")
        if not (first.isdigit() and event_id.isdigit()):
            raise ValueError(raw)
        return legacy, int(first), int(event_id)
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
    region_code: str | None = Field(
        None, description="所属区划 the region the change belongs to; null for suite-wide changes"
    )


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None = Field(
        description="下一页游标 pass as ?after= next time; equals `after` when nothing new has committed"
    )


async def read_feed(
    session: AsyncSession,
    table: Table,
    after: str | None,
    limit: int,
    *,
    types: Sequence[str] | None = None,
    region_code: str | None = None,
) -> EventPage:
    """Events after ``after`` in commit order (position, then event id): every one committed, none skipped.

    ``types`` and ``region_code`` narrow the page to those events (the mobile down-sync); the next cursor
    is then the last event served, or ``after`` again when none matched.
    """
    commits = commits_of(table)
    query = select(commits.c.position, table).join(commits, commits.c.txid == table.c.txid)
    if types is not None:
        query = query.where(table.c.type.in_(list(types)))
    if region_code is not None:
        query = query.where(table.c.region_code == region_code)
    if after:
        legacy, first, event_id = decode_cursor(after)
        position: int | None = first
        if legacy:
            # The migration numbered the transactions of the old feed in its own order; a cursor naming one
            # we cannot find starts again from the beginning (repeats, never skips).
            position = await session.scalar(select(commits.c.position).where(commits.c.txid == first))
            if position is None:
                event_id = 0
        if position is not None:
            query = query.where(
                commits.c.position >= position, or_(commits.c.position > position, table.c.id > event_id)
            )
    query = query.order_by(commits.c.position, table.c.id).limit(limit)
    rows = (await session.execute(query)).mappings().all()
    items = [
        Event(
            id=row["id"],
            cursor=encode_cursor(row["position"], row["id"]),
            type=row["type"],
            occurred_at=row["occurred_at"],
            request_id=row["request_id"],
            subject=row["subject"],
            data=row["data"],
            region_code=row["region_code"],
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
