"""A feed consumer knows how it is doing: caught up, lagging (has not reached the end of the feed for a
while) or failing (polls fail in a row). Real PostgreSQL for the cursor; the source is a stub."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import create_async_engine

from services.evaluation.models import feed_cursors
from shared.db import make_sessionmaker
from shared.feed_consumer import FeedConsumer


class Source:
    """Serves ``pages`` in turn: an int is a page of that many events, a response is answered as it is."""

    def __init__(self) -> None:
        self.pages: list[int | httpx.Response] = []
        self.served = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = self.pages.pop(0)
        if isinstance(page, httpx.Response):
            return page
        items: list[dict[str, Any]] = []
        for _ in range(page):
            self.served += 1
            items.append({"id": self.served, "cursor": f"c{self.served}", "type": "other.thing", "data": {}})
        return httpx.Response(200, json={"items": items, "next_cursor": items[-1]["cursor"] if items else None})


@pytest_asyncio.fixture
async def consumer(database_url: str) -> AsyncIterator[tuple[FeedConsumer, Source]]:
    engine = create_async_engine(database_url)
    source = Source()
    http = httpx.AsyncClient(transport=httpx.MockTransport(source), base_url="http://source")
    name = f"test-{uuid.uuid4().hex[:8]}"  # a cursor row of its own, removed afterwards
    state = SimpleNamespace(sessionmaker=make_sessionmaker(engine), http=http, service_credentials=None)
    feed = FeedConsumer(
        source=name, base_url="http://source", handlers={}, cursors=feed_cursors, state=state, page_size=2
    )
    yield feed, source
    async with engine.begin() as conn:
        await conn.execute(delete(feed_cursors).where(feed_cursors.c.source == name))
    await http.aclose()
    await engine.dispose()


async def test_caught_up_lagging_failing_and_back(consumer: tuple[FeedConsumer, Source]) -> None:
    feed, source = consumer
    assert feed.health(60, 3).status == "disabled"  # not running in the background: not counted
    feed.running = True
    feed.started_at = time.monotonic() - 61
    assert feed.health(60, 3).status == "lagging"  # started a minute ago and never reached the end

    source.pages = [2, 2, 1]
    assert await feed.poll_once() == 2  # a full page: there is more
    assert feed.health(60, 3).status == "lagging"
    assert await feed.poll_once() == 2
    assert await feed.poll_once() == 1  # the end of the feed
    health = feed.health(60, 3)
    assert (health.status, health.failures) == ("ok", 0)
    assert health.behind_seconds is not None
    assert health.behind_seconds < 1
    assert health.caught_up_at is not None

    source.pages = [httpx.Response(401), httpx.Response(401), httpx.Response(403), 0]
    for _ in (1, 2):
        with pytest.raises(httpx.HTTPStatusError):
            await feed.poll_once()
        assert feed.health(60, 3).status == "ok"  # one or two failures: not yet
    with pytest.raises(httpx.HTTPStatusError):
        await feed.poll_once()
    health = feed.health(60, 3)
    assert (health.status, health.failures) == ("failing", 3)
    assert health.last_error == "HTTP 403 from http://source/v1/events"

    assert await feed.poll_once() == 0  # the source is back
    assert feed.health(60, 3).status == "ok"
    feed.caught_up_at = time.monotonic() - 61
    assert feed.health(60, 3).status == "lagging"


class Feed:
    """A source of ``count`` events that answers any cursor (``c<n>``) with the events after it."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __call__(self, request: httpx.Request) -> httpx.Response:
        after = int((request.url.params.get("after") or "c0")[1:])
        limit = int(request.url.params["limit"])
        items = [
            {"id": n, "cursor": f"c{n}", "type": "worker.hired", "occurred_at": "2026-01-01T00:00:00+00:00", "data": {}}
            for n in range(after + 1, min(after + limit, self.count) + 1)
        ]
        return httpx.Response(200, json={"items": items, "next_cursor": items[-1]["cursor"] if items else None})


async def test_replicas_polling_one_feed_apply_each_event_once(database_url: str) -> None:
    """Issue #15: every replica runs the consumer; a page is applied by the replica holding the cursor row
    with the cursor where it read it, the others drop their copy: 200 events, 3 replicas, each once."""
    engine = create_async_engine(database_url)
    feed = Feed(200)
    http = httpx.AsyncClient(transport=httpx.MockTransport(feed), base_url="http://source")
    name = f"test-{uuid.uuid4().hex[:8]}"
    applied: list[int] = []

    async def handler(session: Any, event: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # let the other replicas run in between
        applied.append(event["id"])

    state = SimpleNamespace(sessionmaker=make_sessionmaker(engine), http=http, service_credentials=None)
    replicas = [
        FeedConsumer(
            source=name,
            base_url="http://source",
            handlers={"worker.hired": handler},
            cursors=feed_cursors,
            state=state,
            page_size=7,
        )
        for _ in range(3)
    ]

    async def run(consumer: FeedConsumer) -> None:
        while len(applied) < 200:
            await consumer.poll_once()
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(run(r) for r in replicas))
        for replica in replicas:  # whoever stopped early: the feed's end for everyone now
            while await replica.poll_once():
                pass
        assert sorted(applied) == list(range(1, 201))  # every event, none twice
        assert sum(r.events_applied for r in replicas) == 200
        assert sum(r.pages_dropped for r in replicas) > 0  # they did race for pages
        assert (await replicas[0].lag()).events == 0
        feed.count = 230  # the source moves on while no replica polls: the lag is read from the source
        lag = await replicas[1].lag()
        assert lag.events == 30
        assert lag.seconds > 0
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(feed_cursors).where(feed_cursors.c.source == name))
        await http.aclose()
        await engine.dispose()


async def test_a_catch_up_reads_full_pages_up_to_pages_per_poll_and_applies_them_in_one_transaction(
    database_url: str,
) -> None:
    """Issue #16: while pages come full, one poll reads up to ``pages_per_poll`` of them and hands them to the
    page handler as one page, with one cursor update; a page that is not full ends the poll (caught up)."""
    engine = create_async_engine(database_url)
    feed_source = Feed(13)
    http = httpx.AsyncClient(transport=httpx.MockTransport(feed_source), base_url="http://source")
    name = f"test-{uuid.uuid4().hex[:8]}"
    pages: list[list[int]] = []

    async def page_handler(session: Any, page: list[dict[str, Any]]) -> None:
        pages.append([event["id"] for event in page])

    state = SimpleNamespace(sessionmaker=make_sessionmaker(engine), http=http, service_credentials=None)
    feed = FeedConsumer(
        source=name,
        base_url="http://source",
        handlers={},
        page_handler=page_handler,
        cursors=feed_cursors,
        state=state,
        page_size=2,
        pages_per_poll=3,
    )
    feed.running = True
    try:
        assert await feed.poll_once() == 6  # three full pages
        assert feed.last_poll_full
        assert feed.caught_up_at is None  # there is more
        assert await feed.poll_once() == 6
        assert await feed.poll_once() == 1  # a page of one: the end of the feed
        assert not feed.last_poll_full
        assert feed.caught_up_at is not None
        assert await feed.poll_once() == 0
        assert pages == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], [13]]
        async with state.sessionmaker() as session:
            assert await feed.cursor(session) == "c13"
        assert feed.events_applied == 13
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(feed_cursors).where(feed_cursors.c.source == name))
        await http.aclose()
        await engine.dispose()


async def test_a_consumer_whose_cursor_another_replica_moved_drops_its_page_and_reads_the_cursor_again(
    database_url: str,
) -> None:
    """A consumer asks the source from the cursor it stored last without reading it first (issue #16); when
    another replica moved it meanwhile, the check under the row's lock drops the stale page, and the next
    poll starts from the cursor in the database: no event applied twice, none skipped (issue #15)."""
    engine = create_async_engine(database_url)
    feed_source = Feed(10)
    http = httpx.AsyncClient(transport=httpx.MockTransport(feed_source), base_url="http://source")
    name = f"test-{uuid.uuid4().hex[:8]}"
    applied: list[tuple[str, int]] = []

    def consumer(label: str) -> FeedConsumer:
        async def handler(session: Any, event: dict[str, Any]) -> None:
            applied.append((label, event["id"]))

        state = SimpleNamespace(sessionmaker=make_sessionmaker(engine), http=http, service_credentials=None)
        return FeedConsumer(
            source=name,
            base_url="http://source",
            handlers={"worker.hired": handler},
            cursors=feed_cursors,
            state=state,
            page_size=3,
        )

    a, b = consumer("a"), consumer("b")
    try:
        assert await a.poll_once() == 3  # a stores c3 and remembers it
        assert await b.poll_once() == 3  # b reads c3 from the database, stores c6
        assert await a.poll_once() == 0  # a asked from c3: the cursor moved, its page is dropped
        assert a.pages_dropped == 1
        assert await a.poll_once() == 3  # read again: from c6
        assert await a.poll_once() == 1
        assert [event for _, event in applied] == list(range(1, 11))
        assert applied[3:6] == [("b", 4), ("b", 5), ("b", 6)]
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(feed_cursors).where(feed_cursors.c.source == name))
        await http.aclose()
        await engine.dispose()
