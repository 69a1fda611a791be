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
import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
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
    Text,
    cast,
    event,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require
from shared.contracts import check_contract
from shared.db import SessionDep
from shared.i18n import Message
from shared.problems import BadRequest, FieldError, Forbidden, problem_responses
from shared.regions import RegionCode, RegionLevel, contains, is_region_code, level, scope_prefix
from shared.request_context import current_request_id
from shared.scoping import READ_ROLES

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
            "region",
            String(12),
            nullable=True,
            comment="the region the event belongs to (region-scoped feeds); null: province-wide readers only",
        ),
        Index("events_txid_id_idx", "txid", "id"),
        Index("events_region_idx", "region", postgresql_ops={"region": "text_pattern_ops"}),
    )
    for statement in commit_order_ddl(schema):
        event.listen(events, "after_create", DDL(statement))  # type: ignore[no-untyped-call]
    # create_all makes event_commits before events only if told: the trigger function names it.
    events.add_is_dependent_on(commits)
    return events


def commits_of(events: Table) -> Table:
    """The ``event_commits`` table beside an ``events`` table."""
    return events.metadata.tables[f"{events.schema}.{COMMITS_TABLE}"]


# The payload members that name an event's region, most specific first (the migrations backfill by these too).
REGION_KEYS = ("community_code", "to_community", "township_code", "county_code", "region_code", "code")


def event_region(data: dict[str, Any]) -> str | None:
    """The region an event's payload names (its community, township, county …), if any."""
    for key in REGION_KEYS:
        value = data.get(key)
        if isinstance(value, str) and is_region_code(value):
            return value
    return None


async def record_event(
    session: AsyncSession,
    table: Table,
    type_: str,
    subject: str,
    data: dict[str, Any],
    region: str | None = None,
) -> None:
    """Write an event in the session's transaction; it is published when that transaction commits.

    The payload must fit its type's contract (``shared.contracts.EVENTS``): a type without one, or a payload
    that does not fit, is a programming error raised here, before anything is published. ``region``
    (default: the one the payload names) is what region-scoped feeds filter on; an event of no region is
    served to province-wide readers only.
    """
    check_contract(type_, data)
    await session.execute(
        table.insert().values(
            type=type_,
            subject=subject,
            data=data,
            request_id=current_request_id(),
            region=region or event_region(data),
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
    region: str | None = Field(
        None, description="区划代码 the region the event belongs to; null: province-wide readers only"
    )
    data: dict[str, Any] = Field(description="事件内容 the event's payload")


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None = Field(
        description="下一页游标 pass as ?after= next time; equals `after` when nothing new has committed"
    )


def feed_regions(principal: Principal, region: str | None) -> list[str] | None:
    """The regions a caller's feed is scoped to: ``region`` if given (refused outside the caller's grants),
    else every region of its grants; ``None`` (no filter, events of no region too) when that is a province."""
    scopes = principal.regions(READ_ROLES)
    if region is not None:
        if not any(contains(scope, region) for scope in scopes):
            raise Forbidden(
                Message("区划 {region} 不在您的权限范围内", "Region {region} is outside your grants"),
                errors=[
                    FieldError.of(
                        "region",
                        Message("不在您的权限范围内", "outside your grants"),
                        pointer="/query/region",
                        type="region",
                    )
                ],
                region=region,
            )
        scopes = [region]
    if any(level(scope) == RegionLevel.province for scope in scopes):
        return None
    return scopes


async def feed_rows(
    session: AsyncSession,
    table: Table,
    after: str | None,
    limit: int,
    regions: list[str] | None = None,
    *,
    types: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Events after ``after`` in commit order (position, then event id): every one committed, none skipped,
    each as the dict of an :class:`Event` (its members in the model's order).

    With ``regions``, only the events of those regions (by the outbox's ``region`` column, indexed); the
    cursor is the same kind, so a scoped reader never skips one of its events either. ``types`` narrows
    the page to those event types (the mobile down-sync).

    The payload is read as PostgreSQL's text of the ``jsonb`` and decoded with orjson: the driver's ``jsonb``
    codec and the stdlib's decoder were a third of a feed page's cost (issue #16).
    """
    commits = commits_of(table)
    query = select(
        commits.c.position,
        table.c.id,
        table.c.type,
        table.c.occurred_at,
        table.c.request_id,
        table.c.subject,
        table.c.region,
        cast(table.c.data, Text).label("data"),
    ).join(commits, commits.c.txid == table.c.txid)
    if regions is not None:
        query = query.where(or_(*(table.c.region.startswith(scope_prefix(r)) for r in regions)))
    if types is not None:
        query = query.where(table.c.type.in_(list(types)))
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
    rows = (await session.execute(query)).all()
    return [
        {
            "id": id_,
            "cursor": encode_cursor(at, id_),
            "type": type_,
            "occurred_at": occurred_at,
            "request_id": request_id,
            "subject": subject,
            "region": region,
            "data": _payload(data),
        }
        for at, id_, type_, occurred_at, request_id, subject, region, data in rows
    ]


def _payload(text_: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = orjson.loads(text_)
    except orjson.JSONDecodeError:  # what orjson refuses and jsonb allows (an integer beyond 64 bits)
        data = json.loads(text_)
    return data


def event_page(rows: list[dict[str, Any]], after: str | None) -> EventPage:
    """The :class:`EventPage` of ``rows`` (from :func:`feed_rows` reading after ``after``). The outbox's columns
    have the model's types already: built without validation (a feed page of a thousand events spent a third of
    its time validating them, issue #16)."""
    items = [Event.model_construct(**row) for row in rows]
    return EventPage(items=items, next_cursor=items[-1].cursor if items else after)


def render_page(rows: list[dict[str, Any]], after: str | None) -> bytes:
    """The JSON of the :class:`EventPage` of ``rows`` (from :func:`feed_rows`), byte for byte what pydantic
    writes for it (a test checks), rendered by orjson: the page's serialisation was a fifth of the feed's
    cost (issue #16). A page orjson cannot write (an integer beyond 64 bits) is written by pydantic."""
    page = {"items": rows, "next_cursor": rows[-1]["cursor"] if rows else after}
    try:
        return orjson.dumps(page, option=orjson.OPT_UTC_Z)
    except orjson.JSONEncodeError:
        return event_page(rows, after).model_dump_json().encode()


def events_router(table: Table) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["events"])

    @router.get(
        "/events",
        summary="变更事件流 change feed (transactional outbox) of the caller's region; never skips, may repeat",
        description=(
            "Events in commit order. Scoped to the caller's region: `region` (default: every region of the "
            "caller's grants) must lie within the caller's grants (403 otherwise); a county platform sees its "
            "county's events only, deletions and leavings (`worker.left`) included. Events that name no region "
            "are served to province-wide callers only. Through the gateway: `/api/v1/<service>/events`."
        ),
        response_model=EventPage,
        responses=problem_responses(400, 401, 403),
    )
    async def list_events(
        session: SessionDep,
        principal: Annotated[Principal, require(*READ_ROLES)],
        after: str | None = Query(None, description="游标 the next_cursor of the previous page"),
        limit: int = Query(100, ge=1, le=1000, description="每页条数 page size"),
        region: Annotated[
            RegionCode | None, Query(description="区划 only this region's events (within the caller's grants)")
        ] = None,
    ) -> Response:
        rows = await feed_rows(session, table, after, limit, feed_regions(principal, region))
        return Response(render_page(rows, after), media_type="application/json")

    return router
