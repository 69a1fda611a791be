"""The change feed never skips an event, even when transactions commit out of order (ARCHITECTURE rule 4).

Runs on the real PostgreSQL of the test run, in a scratch schema of its own, with real commits:
what a consumer can see depends on which transactions have committed, so nothing can be rolled back.
"""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from shared.db import schema_metadata
from shared.events import decode_cursor, encode_cursor, outbox_table, read_feed, record_event
from shared.problems import BadRequest


@pytest_asyncio.fixture
async def feed(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    schema = f"feedtest_{uuid.uuid4().hex[:8]}"
    table = outbox_table(schema_metadata(schema))
    engine = create_async_engine(database_url, pool_size=20)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(table.metadata.create_all)
    yield engine, table
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


async def read_all(engine: AsyncEngine, table: Table, after: str | None) -> tuple[list[str], str | None]:
    async with async_sessionmaker(engine)() as session:
        page = await read_feed(session, table, after, 1000)
    return [e.subject for e in page.items], page.next_cursor


async def test_event_of_an_older_open_transaction_holds_back_newer_ones(feed: tuple[AsyncEngine, Table]) -> None:
    engine, table = feed
    async with engine.connect() as older, engine.connect() as newer:
        await older.begin()
        await older.execute(table.insert().values(type="worker.hired", subject="A", data={}))
        await newer.begin()
        await newer.execute(table.insert().values(type="worker.hired", subject="B", data={}))
        await newer.commit()  # B commits first, though its transaction started later

        seen, cursor = await read_all(engine, table, None)
        # Serving B now would let a consumer's cursor pass A, which commits later: B must wait.
        assert seen == []
        assert cursor is None

        await older.commit()
    seen, cursor = await read_all(engine, table, None)
    assert seen == ["A", "B"]
    assert (await read_all(engine, table, cursor))[0] == []
    # An empty page hands back the same cursor, so a consumer can keep polling with it.
    assert (await read_all(engine, table, cursor))[1] == cursor


async def test_concurrent_writers_and_a_polling_consumer_lose_nothing(feed: tuple[AsyncEngine, Table]) -> None:
    engine, table = feed
    maker = async_sessionmaker(engine, class_=AsyncSession)
    rng = random.Random(20261121)
    committed: set[str] = set()

    async def writer(w: int) -> None:
        for i in range(15):
            delay = rng.random() / 200
            async with maker() as session:
                await record_event(session, table, "post.assigned", f"{w}-{i}-a", {"w": w})
                await asyncio.sleep(delay)  # hold the transaction open: commits interleave out of order
                await record_event(session, table, "post.assigned", f"{w}-{i}-b", {"w": w})
                if i % 5 == 4:
                    await session.rollback()  # rolled-back events are never published
                    continue
                await session.commit()
            committed.update({f"{w}-{i}-a", f"{w}-{i}-b"})

    received: list[str] = []
    done = asyncio.Event()

    async def consumer() -> None:
        cursor: str | None = None
        while True:
            finished = done.is_set()
            subjects, cursor = await read_all(engine, table, cursor)
            received.extend(subjects)
            if finished and not subjects:
                return
            await asyncio.sleep(0.001)

    consuming = asyncio.create_task(consumer())
    await asyncio.gather(*(writer(w) for w in range(8)))
    done.set()
    await consuming

    assert len(committed) == 8 * 12 * 2
    assert sorted(received) == sorted(committed)  # every committed event, each exactly once


async def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(987654321, 42)) == (987654321, 42)
    with pytest.raises(BadRequest):
        decode_cursor("not-a-cursor!")
