"""Consuming another service's change feed into a local projection (ARCHITECTURE rule 4).

A :class:`FeedConsumer` reads ``GET <source>/v1/events?after=<cursor>`` with the service's own
credentials and applies each page in one transaction together with the new cursor (table
``feed_cursors``), so a crash repeats a page but never loses or half-applies one. Handlers must be
idempotent: the feed may repeat an event. The loop runs in the service's lifespan; tests call
:meth:`FeedConsumer.poll_once` directly.

Each consumer keeps how it is doing (:meth:`FeedConsumer.health`): when it last reached the end of the
feed (a page that was not full), and how many polls in a row failed. ``/readyz`` reports a feed that
has not caught up for longer than ``feed_max_lag_seconds`` as lagging and one whose last
``feed_failures_before_unready`` polls failed as failing (shared/health.py).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import orjson
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http_client import request_with_retries
from shared.service_auth import ServiceCredentials

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
# Applies a whole page set-wise, with the effect of the per-event handlers in the page's order
# (shared/projection_pages.py).
PageHandler = Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[None]]
_log = logging.getLogger("shegong.feed")


def feed_cursors_table(metadata: MetaData) -> Table:
    return Table(
        "feed_cursors",
        metadata,
        Column("source", String(40), primary_key=True, comment="the service whose feed this is"),
        Column("cursor", String(200), nullable=True),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


LAG_COUNT_LIMIT = 1000  # the feed's largest page: a lag of more events is reported as this many
# Full pages read and applied as one by a set-wise consumer while it catches up: 10,000 events a transaction.
# In a 50,000-event catch-up, five pages a poll against one took 0.83× the Python CPU time and 0.67× the
# PostgreSQL CPU time (the per-poll statements and round trips, paid once per five pages), and ten ran faster
# than five in wall time (6.9 s against 7.4 s, interleaved on a loaded machine; issue #16).
CATCH_UP_PAGES = 10


@dataclass(frozen=True)
class FeedLag:
    """A consumer's distance from its source's head."""

    events: int
    seconds: float


FeedStatus = Literal["ok", "lagging", "failing", "disabled"]


@dataclass(frozen=True)
class FeedHealth:
    """How a consumer is doing, as ``/readyz`` reports it."""

    status: FeedStatus
    behind_seconds: float | None  # since the consumer last reached the end of the feed (or started)
    caught_up_at: datetime | None
    failures: int  # polls in a row that failed
    last_error: str | None


@dataclass(kw_only=True, eq=False)
class FeedConsumer:
    """One source's feed (``base_url``) applied to this service's projection, its cursor in ``cursors``.

    ``state`` is the app's state: its sessionmaker, HTTP client and credentials are read per poll.
    ``default_handler`` takes every event of a type ``handlers`` does not name (the gateway's webhooks).
    ``page_handler``, when given, applies each page in place of ``handlers`` (which stay the per-event
    reference of what it must do). ``pages_per_poll``: while the feed's pages come full (a catch-up), up to
    this many are read and applied as one, in one transaction (one page to the handlers): the statements
    per event fall with it (issue #16)."""

    source: str
    base_url: str
    handlers: Mapping[str, Handler]
    cursors: Table
    state: Any
    page_size: int = 1000
    max_backoff_seconds: float = 15.0
    default_handler: Handler | None = None
    page_handler: PageHandler | None = None
    pages_per_poll: int = 1

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.running = False
        self.started_at = time.monotonic()
        self.caught_up_at: float | None = None  # monotonic time of the last poll that found the feed's end
        self.failures = 0
        self.last_error: str | None = None
        self.events_applied = 0  # by this process (``/metrics``: summed over replicas, each event once)
        self.pages_dropped = 0  # pages another replica applied first
        # The cursor this consumer last stored (or read), as a 1-tuple; None: read it from the database first.
        # A poll after a page it applied reads nothing before asking the source: if another replica moved the
        # cursor meanwhile, the check under the cursor row's lock finds it moved and drops the page.
        self._cursor_known: tuple[str | None] | None = None
        self.last_poll_full = False  # the last poll's last page was full: there is more

    def health(self, max_lag_seconds: float, failures_before_unready: int) -> FeedHealth:
        """``lagging`` when the end of the feed was last reached more than ``max_lag_seconds`` ago (or never
        since the start), ``failing`` after ``failures_before_unready`` failed polls in a row."""
        now = time.monotonic()
        behind = now - (self.caught_up_at if self.caught_up_at is not None else self.started_at)
        caught_up_at = (
            datetime.now(UTC) - timedelta(seconds=now - self.caught_up_at) if self.caught_up_at is not None else None
        )
        status: FeedStatus
        if not self.running:
            status = "disabled"
        elif self.failures >= failures_before_unready:
            status = "failing"
        elif behind > max_lag_seconds:
            status = "lagging"
        else:
            status = "ok"
        return FeedHealth(status, round(behind, 1), caught_up_at, self.failures, self.last_error)

    async def poll_once(self) -> int:
        """Fetch one page and apply it with its cursor in one transaction; returns events applied."""
        try:
            applied = await self._poll()
        except Exception as exc:
            self.failures += 1
            self.last_error = _describe(exc)
            raise
        self.failures = 0
        self.last_error = None
        if not self.last_poll_full:
            self.caught_up_at = time.monotonic()
        return applied

    async def _poll(self) -> int:
        maker: async_sessionmaker[AsyncSession] = self.state.sessionmaker
        known, self._cursor_known, self.last_poll_full = self._cursor_known, None, False  # until this poll ends well
        async with maker() as session:
            if known is None:
                cursor = await self.cursor(session)
                await session.commit()  # no transaction stays open across the call to the source
            else:
                (cursor,) = known
            items, next_cursor, full = await self._fetch_pages(cursor)
            if not items:
                self._cursor_known = (cursor,)
                return 0
            # Every replica runs this consumer: the page is applied only by the one that finds the cursor
            # where it read it, under the cursor row's lock (a replica that waited finds it moved and drops
            # its copy), so each event is applied once however many replicas poll (issue #15).
            lock = select(self.cursors.c.cursor).where(self.cursors.c.source == self.source).with_for_update()
            row = (await session.execute(lock)).first()
            if row is None:  # the source's first page here
                await session.execute(insert(self.cursors).values(source=self.source).on_conflict_do_nothing())
                row = (await session.execute(lock)).first()
            assert row is not None
            if row[0] != cursor:
                await session.rollback()
                self.pages_dropped += 1
                return 0
            await self._apply(session, items)
            await session.execute(
                update(self.cursors)
                .where(self.cursors.c.source == self.source)
                .values(cursor=next_cursor, updated_at=datetime.now(UTC))
            )
            await session.commit()
            self._cursor_known, self.last_poll_full = (next_cursor,), full
            self.events_applied += len(items)
            return len(items)

    async def _fetch_pages(self, cursor: str | None) -> tuple[list[dict[str, Any]], str | None, bool]:
        """The events after ``cursor``: one page, or while pages come full up to ``pages_per_poll`` of them;
        with the cursor after the last and whether the last page was full."""
        items: list[dict[str, Any]] = []
        full = False
        for _ in range(self.pages_per_poll):
            page = await self._fetch(cursor, self.page_size)
            items += page["items"]
            if page["items"]:
                cursor = page["next_cursor"]
            full = len(page["items"]) >= self.page_size
            if not full:
                break
        return items, cursor, full

    async def _apply(self, session: AsyncSession, items: list[dict[str, Any]]) -> None:
        if self.page_handler is not None:
            await self.page_handler(session, items)
            return
        for event in items:
            handler = self.handlers.get(event["type"], self.default_handler)
            if handler is not None:
                await handler(session, event)

    async def cursor(self, session: AsyncSession) -> str | None:
        cursor: str | None = await session.scalar(
            select(self.cursors.c.cursor).where(self.cursors.c.source == self.source)
        )
        return cursor

    async def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        credentials: ServiceCredentials | None = self.state.service_credentials
        client: httpx.AsyncClient = self.state.http
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["after"] = cursor
        headers = await credentials.headers() if credentials else {}
        response = await request_with_retries(
            client, "GET", f"{self.base_url}/v1/events", params=params, headers=headers
        )
        response.raise_for_status()
        page: dict[str, Any] = orjson.loads(response.content)  # the stdlib's decoder took twice as long
        return page

    async def lag(self, session: AsyncSession | None = None) -> FeedLag:
        """How far this consumer's cursor is behind the source's head, asked of the source now: events not
        yet applied (counted up to :data:`LAG_COUNT_LIMIT`) and the age of the oldest of them (0 when none).
        Read whether the consumer runs or not, so a stopped consumer's lag is seen rising (``/metrics``)."""
        if session is None:
            async with self.state.sessionmaker() as own:
                return await self.lag_after(await self.cursor(own))
        return await self.lag_after(await self.cursor(session))

    async def lag_after(self, cursor: str | None) -> FeedLag:
        """The lag of a consumer whose cursor is ``cursor`` (see :meth:`lag`)."""
        page = await self._fetch(cursor, LAG_COUNT_LIMIT)
        items = page["items"]
        if not items:
            return FeedLag(0, 0.0)
        oldest = datetime.fromisoformat(items[0]["occurred_at"])
        return FeedLag(len(items), max(0.0, (datetime.now(UTC) - oldest).total_seconds()))

    async def run(self, interval_seconds: float) -> None:
        """Poll until cancelled: at once while pages are full, else every ``interval_seconds``; after a
        failure back off, doubling up to ``max_backoff_seconds``, so a source or database that comes back
        is read again within that."""
        self.running = True
        self.started_at = time.monotonic()
        freeze_startup_heap()
        backoff = interval_seconds
        try:
            while True:
                try:
                    await self.poll_once()
                    backoff = interval_seconds
                    if self.last_poll_full:
                        continue
                except asyncio.CancelledError:
                    raise
                except Exception:  # a source that is down or a bad page: log, back off, try again
                    _log.exception("feed %s: poll failed", self.source)
                    backoff = min(backoff * 2, max(self.max_backoff_seconds, interval_seconds))
                await asyncio.sleep(backoff)
        finally:
            self.running = False


@functools.cache  # once per process
def freeze_startup_heap() -> None:
    """Move every object alive now (the process's modules, app, metadata …: about 200,000) out of the
    collector's reach, once per process, as the first consumer starts (:meth:`FeedConsumer.run`).

    Why (issue #16): a catch-up page holds some 20,000 objects (the events' dicts, their models, the rows)
    for the page's duration, so they outlive the young generations and are promoted, and every few pages
    that triggered a full collection, which walked the whole startup heap: in a 30,000-event catch-up six
    full collections took about 3 s of 8–10 s. Frozen, the full collections walk only what was made since
    (0.1–0.2 s in the same run). What is frozen is never freed, so the heap is first collected."""
    gc.collect()
    gc.freeze()


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url.copy_with(query=None)}"
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__
