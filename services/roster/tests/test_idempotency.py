"""Idempotency-Key on POST: a retried hire makes one worker, a changed body is refused (CONVENTIONS)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.roster.models import Worker
from services.roster.tests.conftest import COMMUNITY_A, Roster, id_number


async def test_same_key_same_body_replays_different_body_is_refused(roster: Roster) -> None:
    headers = {**roster.province_admin, "Idempotency-Key": str(uuid.uuid4())}
    body = {"id_number": id_number(77), "name": "重试", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"}
    first = await roster.client.post("/v1/workers", headers=headers, json=body)
    again = await roster.client.post("/v1/workers", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    async with roster.service.app.state.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Worker).where(Worker.name == "重试"))
    assert count == 1
    changed = await roster.client.post("/v1/workers", headers=headers, json=body | {"name": "别人"})
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"


async def test_keys_belong_to_their_caller(roster: Roster) -> None:
    key = str(uuid.uuid4())
    body = {"id_number": id_number(78), "name": "甲", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"}
    mine = await roster.client.post("/v1/workers", headers={**roster.province_admin, "Idempotency-Key": key}, json=body)
    assert mine.status_code == 201
    # Another caller with the same key gets no replay of someone else's answer: its request runs.
    other = roster.as_(("county_admin", "330302"))
    theirs = await roster.client.post("/v1/workers", headers={**other, "Idempotency-Key": key}, json=body)
    assert theirs.status_code == 409  # it ran: the person already has a record
    assert "idempotency-replayed" not in theirs.headers
