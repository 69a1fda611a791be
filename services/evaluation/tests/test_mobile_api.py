"""The mobile app (E7): a batch answers per visit and stores the good ones; a resend is recognised;
visits in the future are refused; a worker reads back their own visits and a household's history; the
down-sync serves the worker's must-visit households and this month's targets, then only what changed
since its cursor — a registration that commits late included, nothing twice, removals as deletions."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.evaluation import visits
from services.evaluation.models import MustVisitHousehold
from services.evaluation.projections import apply_worker
from services.evaluation.schemas import MustVisitCategory, MustVisitIn
from services.evaluation.tests.conftest import COMMUNITY_A, COMMUNITY_B, Evaluation, hired_event
from shared.auth import Grant, Principal, Role


def visit(start: datetime, minutes: int = 60, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "community_code": COMMUNITY_A,
        "building": "3幢",
        "unit": "2单元",
        "household": "301",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
    } | extra


YESTERDAY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


async def test_e7_a_batch_stores_the_good_visits_and_names_the_reasons_for_each_bad_one(
    evaluation: Evaluation,
) -> None:
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    good = [visit(YESTERDAY), visit(YESTERDAY + timedelta(hours=2))]
    backwards = visit(YESTERDAY + timedelta(hours=4), minutes=-30)
    malformed = visit(YESTERDAY) | {"community_code": "33030200100X"}
    missing = {k: v for k, v in visit(YESTERDAY).items() if k != "household"}
    batch = [good[0], backwards, malformed, missing, good[1]]
    response = await evaluation.client.post("/v1/visits:batch", headers=me, json={"visits": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["outcome"] for r in body["results"]] == ["stored", "refused", "refused", "refused", "stored"]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    assert (body["stored"], body["duplicates"], body["refused"]) == (2, 0, 3)
    (order,) = body["results"][1]["errors"]
    assert (order["field"], order["rule"], order["pointer"]) == ("ended_at", "E7", "/body/visits/1/ended_at")
    assert order["detail_zh"] == "结束时间应晚于开始时间"
    assert order["detail_en"] == "the end must come after the start"
    assert [e["pointer"] for e in body["results"][2]["errors"]] == ["/body/visits/2/community_code"]
    assert [(e["field"], e["type"]) for e in body["results"][3]["errors"]] == [("household", "missing")]
    assert all(e["detail_zh"] and e["detail_en"] for r in body["results"] for e in r["errors"])

    stored = (await evaluation.client.get("/v1/visits", headers=me)).json()["items"]
    assert sorted(v["id"] for v in stored) == sorted(v["id"] for v in good)

    # The phone did not get the answer and sends the same batch again: recognised, nothing stored twice.
    again = (await evaluation.client.post("/v1/visits:batch", headers=me, json={"visits": batch})).json()
    assert [r["outcome"] for r in again["results"]] == ["duplicate", "refused", "refused", "refused", "duplicate"]
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert len((await evaluation.client.get("/v1/visits", headers=me)).json()["items"]) == 2


async def test_e7_visits_in_the_future_beyond_the_clock_skew_are_refused(evaluation: Evaluation) -> None:
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    now = datetime.now(UTC)
    skew = evaluation.service.app.state.settings.visit_clock_skew_seconds
    assert skew == 300
    within = visit(now - timedelta(minutes=30), minutes=32)  # ends 2 minutes ahead: a phone's clock
    beyond = visit(now - timedelta(minutes=30), minutes=30 + 10)  # ends 10 minutes ahead
    tomorrow = visit(now + timedelta(days=1))
    body = (
        await evaluation.client.post("/v1/visits:batch", headers=me, json={"visits": [within, beyond, tomorrow]})
    ).json()
    assert [r["outcome"] for r in body["results"]] == ["stored", "refused", "refused"]
    assert [(e["field"], e["rule"]) for e in body["results"][1]["errors"]] == [("ended_at", "E7")]
    assert [(e["field"], e["rule"]) for e in body["results"][2]["errors"]] == [
        ("started_at", "E7"),
        ("ended_at", "E7"),
    ]
    assert "future" in body["results"][2]["errors"][0]["detail_en"]


async def test_a_worker_reads_back_only_their_own_visits_page_by_page(evaluation: Evaluation) -> None:
    me = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[0])
    other = evaluation.as_(("worker", COMMUNITY_A), worker_id=evaluation.workers[2])
    mine = [visit(YESTERDAY - timedelta(days=d)) for d in range(5)]
    await evaluation.client.post("/v1/visits:batch", headers=me, json={"visits": mine})
    await evaluation.client.post(
        "/v1/visits:batch", headers=other, json={"visits": [visit(YESTERDAY, household="502")]}
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await evaluation.client.get("/v1/visits", headers=me, params=params)).json()
        seen += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [v["id"] for v in reversed(mine)]  # oldest first, each once
    since = (YESTERDAY - timedelta(days=1)).date().isoformat()
    recent = (await evaluation.client.get("/v1/visits", headers=me, params={"since": since})).json()["items"]
    assert len(recent) == 2
    # Another worker's visits do not exist for a worker; an officer of the region reads them.
    assert (
        await evaluation.client.get("/v1/visits", headers=me, params={"worker_id": evaluation.workers[2]})
    ).status_code == 404
    theirs = await evaluation.client.get(
        "/v1/visits", headers=evaluation.township, params={"worker_id": evaluation.workers[2]}
    )
    assert [v["household"] for v in theirs.json()["items"]] == ["502"]
    history = (
        await evaluation.client.get(f"/v1/communities/{COMMUNITY_A}/households/3幢/2单元/301/visits", headers=other)
    ).json()["items"]
    assert len(history) == 5  # the household's history, whoever visited
    elsewhere = evaluation.as_(("worker", COMMUNITY_B), worker_id=evaluation.workers[1])
    assert (
        await evaluation.client.get(f"/v1/communities/{COMMUNITY_A}/households/3幢/2单元/301/visits", headers=elsewhere)
    ).status_code == 404


# The down-sync reads the outbox feed, which serves only committed transactions: these tests commit, in a
# community of their own.
@pytest.fixture
async def committed(service_app: ServiceFactory) -> InProcessService:
    return await service_app("evaluation", rollback=False)


def officer(community: str) -> Principal:
    return Principal(
        subject="user:officer", name="乡镇干部", grants=(Grant(Role.township_officer, community[:9] + "000"),)
    )


def household(community: str, door: str, category: MustVisitCategory = MustVisitCategory.newly_moved_in) -> MustVisitIn:
    return MustVisitIn(
        community_code=community,
        building="1幢",
        unit="1单元",
        household=door,
        category=category,
        since=YESTERDAY.date(),
    )


async def test_sync_serves_changes_since_its_cursor_once_late_commits_included_and_deletions(
    committed: InProcessService, mint: Mint
) -> None:
    community = f"330881088{random.randint(1, 998):03d}"  # a county no other test uses (江山市)
    worker = str(uuid.uuid4())
    maker = committed.app.state.sessionmaker
    async with maker() as session:
        await apply_worker(session, hired_event(worker, community))
        await visits.register_must_visit(session, officer(community), household(community, "101"))
        await visits.register_must_visit(session, officer(community[:9] + "999"), household(community[:9] + "999", "1"))
        await session.commit()
    me = bearer(mint(("worker", community), worker_id=worker))

    async def sync(cursor: str | None = None) -> dict[str, Any]:
        response = await committed.client.get(
            "/v1/mobile/sync", headers=me, params={"cursor": cursor} if cursor else {}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    first = await sync()
    assert first["full"] is True
    assert [h["household"] for h in first["households"]] == ["101"]  # not the other community's
    assert first["households"][0]["due"] == (YESTERDAY.date() + timedelta(days=30)).isoformat()
    targets = first["targets"]
    assert (targets["visit_share_required"], targets["monthly_working_hours"]) == ("0.5", "174")
    assert targets["visit_hours_required"] == "87.0"
    assert (await sync(first["cursor"]))["households"] == []  # nothing twice

    # A registration whose transaction started first but commits last is still served after the cursor.
    async with maker() as slow, maker() as quick:
        await visits.register_must_visit(slow, officer(community), household(community, "202"))
        await visits.register_must_visit(quick, officer(community), household(community, "303"))
        await quick.commit()
        second = await sync(first["cursor"])
        assert [h["household"] for h in second["households"]] == ["303"]
        await slow.commit()
    third = await sync(second["cursor"])
    assert [h["household"] for h in third["households"]] == ["202"]
    assert third["full"] is False
    assert (await sync(third["cursor"]))["households"] == []

    removed_id = first["households"][0]["id"]
    async with maker() as session:
        await visits.remove_must_visit(session, officer(community), uuid.UUID(removed_id))
        await session.commit()
    fourth = await sync(third["cursor"])
    assert (fourth["households"], fourth["deleted"]) == ([], [removed_id])
    assert (await sync(fourth["cursor"]))["deleted"] == []
    # Everything again from scratch agrees with the changes applied in turn.
    assert sorted(h["household"] for h in (await sync())["households"]) == ["202", "303"]


async def test_only_the_worker_themselves_syncs(evaluation: Evaluation) -> None:
    officer_headers = evaluation.township
    assert (await evaluation.client.get("/v1/mobile/sync", headers=officer_headers)).status_code == 403
    stranger = evaluation.as_(("worker", COMMUNITY_A), worker_id=str(uuid.uuid4()))
    assert (await evaluation.client.get("/v1/mobile/sync", headers=stranger)).status_code == 404


async def test_an_app_applying_every_sync_holds_what_a_full_sync_shows(committed: InProcessService, mint: Mint) -> None:
    """Random registrations, moves and removals, with syncs in between (small pages): the app's copy, built
    only from the changes, always equals the server's households; no change is served twice."""
    rng = random.Random(20261130)
    community = f"330881077{rng.randint(1, 998):03d}"
    worker = str(uuid.uuid4())
    maker = committed.app.state.sessionmaker
    async with maker() as session:
        await apply_worker(session, hired_event(worker, community))
        await session.commit()
    me = bearer(mint(("worker", community), worker_id=worker))

    async def sync(cursor: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body: dict[str, Any] = (await committed.client.get("/v1/mobile/sync", headers=me, params=params)).json()
        return body

    first = await sync(None, 3)
    app_copy: dict[str, dict[str, Any]] = {h["id"]: h for h in first["households"]}
    cursor = first["cursor"]
    doors = [str(n) for n in range(1, 9)]
    for _ in range(40):
        async with maker() as session:
            if rng.random() < 0.7:
                body = household(community, rng.choice(doors), rng.choice(list(MustVisitCategory)))
                body.since = YESTERDAY.date() - timedelta(days=rng.randint(0, 60))
                await visits.register_must_visit(session, officer(community), body)
            else:
                existing = await session.scalar(
                    select(MustVisitHousehold.id).where(MustVisitHousehold.community_code == community).limit(1)
                )
                if existing is not None:
                    await visits.remove_must_visit(session, officer(community), existing)
            await session.commit()
        if rng.random() < 0.4:
            while True:
                page = await sync(cursor, rng.randint(1, 4))
                assert page["cursor"] != cursor or not (page["households"] or page["deleted"])
                for changed in page["households"]:
                    app_copy[changed["id"]] = changed
                for gone in page["deleted"]:
                    app_copy.pop(gone, None)
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
            full = await sync(None, 3)
            assert sorted(app_copy.values(), key=lambda h: h["id"]) == sorted(full["households"], key=lambda h: h["id"])
