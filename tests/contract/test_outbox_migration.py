"""The outbox's commit-order migration numbers the events already there, and consumers' stored cursors
(of the first design: transaction id, event id) carry on from where they were."""

import asyncio
import base64

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from services.roster.models import events
from shared.events import event_page, feed_rows
from shared.migrations import upgrade


async def test_existing_events_keep_their_order_and_old_cursors_still_work(empty_database: str) -> None:
    await asyncio.to_thread(upgrade, "roster", "roster_0006", empty_database)
    engine = create_async_engine(empty_database)
    try:
        for subject in ("one", "two", "three"):
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO roster.events (type, subject, data) VALUES ('t', :s, '{}')"), {"s": subject}
                )
        async with engine.connect() as conn:
            txid, event_id = (
                await conn.execute(text("SELECT txid, id FROM roster.events WHERE subject = 'two'"))
            ).one()
        old_cursor = base64.urlsafe_b64encode(f"{txid}.{event_id}".encode()).decode().rstrip("=")

        await asyncio.to_thread(upgrade, "roster", "head", empty_database)
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO roster.events (type, subject, data) VALUES ('t', 'four', '{}')"))
        async with async_sessionmaker(engine)() as session:
            everything = event_page(await feed_rows(session, events, None, 100), None)
            after_two = event_page(await feed_rows(session, events, old_cursor, 100), old_cursor)
        assert [e.subject for e in everything.items] == ["one", "two", "three", "four"]
        assert [e.subject for e in after_two.items] == ["three", "four"]
    finally:
        await engine.dispose()
