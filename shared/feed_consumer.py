"""Consuming another service's change feed into a local projection (ARCHITECTURE rule 4).

A :class:`FeedConsumer` reads ``GET <source>/v1/events?after=<cursor>`` with the service's own
credentials and applies each page in one transaction together with the new cursor (table
``feed_cursors``), so a crash repeats a page but never loses or half-applies one. Handlers must be
idempotent: the feed may repeat an event. The loop runs in the service's lifespan; tests call
:meth:`FeedConsumer.poll_once` directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.http_client import request_with_retries
from shared.service_auth import ServiceCredentials

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
_log = logging.getLogger("shegong.feed")


def feed_cursors_table(metadata: MetaData) -> Table:
    return Table(
        "feed_cursors",
        metadata,
        Column("source", String(40), primary_key=True, comment="the service whose feed this is"),
        Column("cursor", String(200), nullable=True),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class FeedConsumer:
    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        handlers: Mapping[str, Handler],
        cursors: Table,
        state: Any,
        page_size: int = 500,
    ) -> None:
        """``state`` is the app's state: its sessionmaker, HTTP client and credentials are read per poll."""
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.handlers = handlers
        self.cursors = cursors
        self.state = state
        self.page_size = page_size

    async def poll_once(self) -> int:
        """Fetch one page and apply it with its cursor in one transaction; returns events applied."""
        maker: async_sessionmaker[AsyncSession] = self.state.sessionmaker
        credentials: ServiceCredentials | None = self.state.service_credentials
        client: httpx.AsyncClient = self.state.http
        async with maker() as session:
            cursor = await session.scalar(select(self.cursors.c.cursor).where(self.cursors.c.source == self.source))
            params: dict[str, str | int] = {"limit": self.page_size}
            if cursor:
                params["after"] = cursor
            headers = await credentials.headers() if credentials else {}
            response = await request_with_retries(
                client, "GET", f"{self.base_url}/v1/events", params=params, headers=headers
            )
            response.raise_for_status()
            page = response.json()
            for event in page["items"]:
                handler = self.handlers.get(event["type"])
                if handler is not None:
                    await handler(session, event)
            if page["items"]:
                statement = insert(self.cursors).values(
                    source=self.source, cursor=page["next_cursor"], updated_at=datetime.now(UTC)
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[self.cursors.c.source],
                        set_={"cursor": statement.excluded.cursor, "updated_at": statement.excluded.updated_at},
                    )
                )
            await session.commit()
            return len(page["items"])

    async def run(self, interval_seconds: float) -> None:
        """Poll until cancelled: at once while pages are full, else every ``interval_seconds``."""
        backoff = interval_seconds
        while True:
            try:
                applied = await self.poll_once()
                backoff = interval_seconds
                if applied >= self.page_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # a source that is down or a bad page: log, back off, try again
                _log.exception("feed %s: poll failed", self.source)
                backoff = min(backoff * 2, 60.0)
            await asyncio.sleep(backoff)
