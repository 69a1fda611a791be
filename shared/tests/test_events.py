"""The change feed serves events in commit order and never skips one, whatever else runs on the server
(ARCHITECTURE rule 4).

Runs on the real PostgreSQL of the test run, in a scratch schema of its own, with real commits:
what a consumer can see depends on which transactions have committed, so nothing can be rolled back.
"""

import asyncio
import base64
import random
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from conftest import PostgresServer
from shared.db import schema_metadata
from shared.events import decode_cursor, encode_cursor, event_page, feed_rows, outbox_table, record_event, render_page
from shared.problems import BadRequest

# A test-only trigger that fires after the outbox's own at commit (same row, later name): while the test
# holds advisory lock HOLD_KEY, a transaction that set ``feedtest.hold`` stops *inside* its commit, with
# its position taken and the outbox lock held, not yet visible.
HOLD_KEY = 4242_0001


async def make_feed(engine: AsyncEngine) -> tuple[str, Table]:
    schema = f"feedtest_{uuid.uuid4().hex[:8]}"
    table = outbox_table(schema_metadata(schema))
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(table.metadata.create_all)
        await conn.execute(
            text(
                f"""
                CREATE FUNCTION "{schema}".hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF current_setting('feedtest.hold', true) = 'on' THEN
                        PERFORM pg_advisory_xact_lock_shared({HOLD_KEY});
                    END IF;
                    RETURN NULL;
                END $$
                """
            )
        )
        await conn.execute(
            text(
                f'CREATE CONSTRAINT TRIGGER zz_hold_commit AFTER INSERT ON "{schema}".events '
                f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".hold_commit()'
            )
        )
    return schema, table


async def drop_feed(engine: AsyncEngine, schema: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest_asyncio.fixture
async def feed(database_url: str) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    engine = create_async_engine(database_url, pool_size=20)
    schema, table = await make_feed(engine)
    yield engine, table
    await drop_feed(engine, schema)
    await engine.dispose()


async def read_all(
    engine: AsyncEngine, table: Table, after: str | None, limit: int = 1000
) -> tuple[list[str], str | None]:
    async with async_sessionmaker(engine)() as session:
        page = event_page(await feed_rows(session, table, after, limit), after)
    return [e.subject for e in page.items], page.next_cursor


async def insert(conn: AsyncConnection, table: Table, subject: str) -> None:
    await conn.execute(table.insert().values(type="worker.hired", subject=subject, data={}))


async def test_a_transaction_that_commits_late_is_served_after_the_cursor_never_behind_it(
    feed: tuple[AsyncEngine, Table],
) -> None:
    engine, table = feed
    async with engine.connect() as older, engine.connect() as newer:
        await older.begin()
        await insert(older, table, "A")
        await newer.begin()
        await insert(newer, table, "B")
        await newer.commit()  # B commits first, though its transaction started (and wrote) earlier

        seen, cursor = await read_all(engine, table, None)
        assert seen == ["B"]  # served at once: A is still running, but A will be numbered after B

        await older.commit()
    seen, end = await read_all(engine, table, cursor)
    assert seen == ["A"]  # the consumer past B still gets A
    assert (await read_all(engine, table, None))[0] == ["B", "A"]  # commit order
    # An empty page hands back the same cursor, so a consumer can keep polling with it.
    assert await read_all(engine, table, end) == ([], end)


async def test_a_commit_under_way_holds_back_only_the_commits_after_it(feed: tuple[AsyncEngine, Table]) -> None:
    """A commits slowly (paused after taking its position); B's commit queues behind it on the outbox lock.

    Nothing of either is served until A's commit is visible; then A, then B, in that order.
    """
    engine, table = feed
    async with engine.connect() as holder, engine.connect() as a, engine.connect() as b:
        await holder.execute(text(f"SELECT pg_advisory_lock({HOLD_KEY})"))
        await holder.commit()
        before = (await read_all(engine, table, None))[1]

        await a.begin()
        await a.execute(text("SET LOCAL feedtest.hold = 'on'"))
        await insert(a, table, "A")
        committing_a = asyncio.create_task(a.commit())
        await wait_for_lock_waiters(engine, HOLD_KEY, 1)  # A is inside its commit, holding the outbox lock

        await b.begin()
        await insert(b, table, "B")
        committing_b = asyncio.create_task(b.commit())
        await wait_for_lock_waiters(engine, None, 1)  # B waits for the outbox lock
        assert await read_all(engine, table, before) == ([], before)

        await holder.execute(text(f"SELECT pg_advisory_unlock({HOLD_KEY})"))
        await holder.commit()
        await asyncio.wait_for(asyncio.gather(committing_a, committing_b), 10)
    assert (await read_all(engine, table, before))[0] == ["A", "B"]


async def wait_for_lock_waiters(engine: AsyncEngine, key: int | None, count: int) -> None:
    """Until ``count`` sessions wait for advisory lock ``key`` (None: any advisory lock but HOLD_KEY)."""
    condition = "objid = :low AND classid = :high" if key is not None else "NOT (objid = :low AND classid = :high)"
    for _ in range(200):
        async with engine.connect() as conn:
            waiting = await conn.scalar(
                text(f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND {condition}"),
                {"low": HOLD_KEY & 0xFFFFFFFF, "high": HOLD_KEY >> 32},
            )
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("nobody queued for the lock")


async def test_long_transactions_elsewhere_do_not_hold_the_feed_back(
    feed: tuple[AsyncEngine, Table], postgres_server: PostgresServer
) -> None:
    """An open transaction with a transaction id in this database, one in another database of the cluster
    (both hold back ``pg_snapshot_xmin``, which the first design waited for) and an outbox writer of the
    same service that has not committed yet: events committed meanwhile are served while those are still open."""
    engine, table = feed
    other_db = f"shegong_other_{uuid.uuid4().hex[:8]}"
    await postgres_server.create(other_db)
    same = await asyncpg.connect(f"{postgres_server.base_url}/{engine.url.database}")
    other = await asyncpg.connect(postgres_server.base_url + "/" + other_db)
    try:
        for conn in (same, other):
            await conn.execute("BEGIN")
            xid = int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
            assert int(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")) <= xid
        async with engine.connect() as slow_writer:
            await slow_writer.begin()
            await insert(slow_writer, table, "late")
            start = (await read_all(engine, table, None))[1]
            for n in range(5):
                async with engine.begin() as conn:
                    await insert(conn, table, f"now-{n}")
            # A design that waited for the open transactions would wait until they end, after this read: the
            # bound only keeps a failure from hanging (it measures no speed; 1 s was flaky on a loaded machine).
            seen, cursor = await asyncio.wait_for(read_all(engine, table, start), 15.0)
            assert seen == [f"now-{n}" for n in range(5)]
            # The open transactions really are older than what was served (they would have held it back).
            assert int(await same.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")) <= xid
            await slow_writer.commit()
        assert (await read_all(engine, table, cursor))[0] == ["late"]
    finally:
        await same.close()
        await other.close()
        await postgres_server.drop(other_db)


def quota(w: int, i: int) -> dict[str, object]:
    """A payload that fits its type's contract (``record_event`` checks it)."""
    return {"county_code": "330302", "year": 2000 + w, "headcount": i}


async def test_concurrent_writers_and_a_polling_consumer_lose_nothing(feed: tuple[AsyncEngine, Table]) -> None:
    engine, table = feed
    maker = async_sessionmaker(engine, class_=AsyncSession)
    rng = random.Random(20261121)
    committed: set[str] = set()

    async def writer(w: int) -> None:
        for i in range(15):
            delay = rng.random() / 200
            async with maker() as session:
                await record_event(session, table, "quota.set", f"{w}-{i}-a", quota(w, i))
                await asyncio.sleep(delay)  # hold the transaction open: commits interleave out of order
                await record_event(session, table, "quota.set", f"{w}-{i}-b", quota(w, i))
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
            subjects, cursor = await read_all(engine, table, cursor, limit=7)
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
    for w in range(8):  # a transaction's events stay together and in their order
        mine = [s for s in received if s.startswith(f"{w}-")]
        assert all(mine[k].endswith("-a") and mine[k + 1].endswith("-b") for k in range(0, len(mine), 2))


# One step of a schedule: a writer (0–3) opens/extends its transaction with an event, commits, rolls back;
# or the consumer reads a page of 1–3 events.
STEP = st.one_of(
    st.tuples(st.sampled_from(["insert", "commit", "rollback"]), st.integers(0, 3)),
    st.tuples(st.just("poll"), st.integers(1, 3)),
)


def test_any_schedule_of_writers_and_a_consumer_delivers_each_committed_event_once_in_commit_order(
    database_url: str,
) -> None:
    """Property (hypothesis): transactions open early and commit late, or never; the consumer polls in
    between with small pages. In the end it has every committed event exactly once, in commit order."""
    loop = asyncio.new_event_loop()
    engine = create_async_engine(database_url, pool_size=6)
    schema, table = loop.run_until_complete(make_feed(engine))

    async def scenario(steps: list[tuple[str, int]]) -> None:
        tag = uuid.uuid4().hex[:6]
        start = (await read_all(engine, table, None))[1]
        writers: dict[int, AsyncConnection] = {}
        pending: dict[int, list[str]] = {}
        committed: list[str] = []
        received: list[str] = []
        cursor = start
        n = 0

        async def finish(w: int, commit: bool) -> None:
            conn = writers.pop(w)
            if commit:
                await conn.commit()
                committed.extend(pending.pop(w))
            else:
                await conn.rollback()
                pending.pop(w)
            await conn.close()

        try:
            for action, arg in steps:
                if action == "insert":
                    if arg not in writers:
                        writers[arg] = await engine.connect()
                        await writers[arg].begin()
                        pending[arg] = []
                    n += 1
                    await insert(writers[arg], table, f"{tag}-{n}")
                    pending[arg].append(f"{tag}-{n}")
                elif action in ("commit", "rollback") and arg in writers:
                    await finish(arg, action == "commit")
                elif action == "poll":
                    subjects, cursor = await read_all(engine, table, cursor, limit=arg)
                    received.extend(subjects)
            for w in list(writers):
                await finish(w, True)
            while True:
                subjects, cursor = await read_all(engine, table, cursor, limit=3)
                if not subjects:
                    break
                received.extend(subjects)
        finally:
            for conn in writers.values():
                await conn.close()
        assert received == committed

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(steps=st.lists(STEP, max_size=30))
    def property_(steps: list[tuple[str, int]]) -> None:
        loop.run_until_complete(scenario(steps))

    try:
        property_()
    finally:
        loop.run_until_complete(drop_feed(engine, schema))
        loop.run_until_complete(engine.dispose())
        loop.close()


async def test_cursors_of_the_first_design_carry_on_where_they_were(feed: tuple[AsyncEngine, Table]) -> None:
    """A consumer that stored ``<txid>.<event id>`` before the upgrade goes on from that event."""
    engine, table = feed
    for subject in ("one", "two", "three"):
        async with engine.begin() as conn:
            await insert(conn, table, subject)
    async with engine.connect() as conn:
        txid, event_id = (
            await conn.execute(text(f"SELECT txid, id FROM {table.fullname} WHERE subject = 'two'"))
        ).one()
    legacy = base64.urlsafe_b64encode(f"{txid}.{event_id}".encode()).decode().rstrip("=")
    assert (await read_all(engine, table, legacy))[0] == ["three"]
    unknown = base64.urlsafe_b64encode(b"1.1").decode().rstrip("=")
    assert (await read_all(engine, table, unknown))[0] == ["one", "two", "three"]  # repeats, never skips


async def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(987654321, 42)) == (False, 987654321, 42)
    for garbage in (
        "not-a-cursor!",
        base64.urlsafe_b64encode(b"p1.x").decode(),
        base64.urlsafe_b64encode(b"p-1.2").decode(),
    ):
        with pytest.raises(BadRequest):
            decode_cursor(garbage)


async def test_a_payload_comes_back_as_it_was_written_and_the_page_as_pydantic_writes_it(
    feed: tuple[AsyncEngine, Table],
) -> None:
    """The feed reads the payload as the jsonb's text and decodes it with orjson, and writes the page with
    orjson (issue #16): every payload comes back as it was written (an integer beyond 64 bits too, which
    orjson refuses), and the page's bytes are those of its ``EventPage`` as pydantic writes it."""
    engine, table = feed
    payloads = [
        {"name": '张三 \u2028 "quoted" \\ \x01', "nested": {"list": [1, 2.5, None, True, False, -0.0]}},
        {"big": 2**70, "float": 1e16, "small": 5e-324, "empty": {}, "list": []},
        {"worker_id": str(uuid.uuid4()), "version": 3, "employments": [{"hire_date": "2025-01-01", "left_date": None}]},
    ]
    async with engine.begin() as conn:
        for n, data in enumerate(payloads):
            await conn.execute(table.insert().values(type="worker.hired", subject=f"s{n}", data=data))
    async with async_sessionmaker(engine)() as session:
        rows = await feed_rows(session, table, None, 10)
        page = event_page(rows, None)
    assert [row["data"] for row in rows] == payloads
    assert [event.data for event in page.items] == payloads
    assert render_page(rows, None) == page.model_dump_json().encode()
    assert (
        render_page(rows[:2], None)
        == page.model_copy(update={"items": page.items[:2], "next_cursor": page.items[1].cursor})
        .model_dump_json()
        .encode()
    )
    assert render_page([], "c") == b'{"items":[],"next_cursor":"c"}'
