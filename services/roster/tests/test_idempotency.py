"""Idempotency-Key on POST: a retried hire makes one worker, a changed body is refused (CONVENTIONS)."""

from __future__ import annotations

import json
import uuid
from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import func, select, text

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


async def test_the_key_is_completed_before_the_client_has_the_whole_answer(roster: Roster) -> None:
    """A client that sends the same key again as soon as it has the answer is replayed, never told 409 "still
    running": the key's answer is stored before the answer's last byte leaves (the mixed-load benchmark's
    retried visit uploads found the window)."""
    app = roster.service.app
    key = str(uuid.uuid4())
    body = {"id_number": id_number(79), "name": "补传", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"}
    headers = {**roster.province_admin, "Idempotency-Key": key, "Content-Type": "application/json"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/workers",
        "raw_path": b"/v1/workers",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("roster.test", 80),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}

    states_at_last_byte: list[str | None] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            async with app.state.engine.connect() as conn:
                states_at_last_byte.append(
                    await conn.scalar(text("SELECT state FROM roster.idempotency_keys WHERE key = :k"), {"k": key})
                )

    await app(scope, receive, send)
    assert states_at_last_byte == ["completed"]
    again = await roster.client.post("/v1/workers", headers=headers, content=json.dumps(body).encode())
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
