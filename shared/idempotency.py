"""``Idempotency-Key`` on POST (CONVENTIONS: writes; IETF draft-ietf-httpapi-idempotency-key-header).

Same key and same body → the stored response again (``Idempotency-Replayed: true``); same key with a
different body → 422; same key while the first request still runs → 409. Keys belong to the caller
(the verified token's subject), live 24 hours, and 5xx answers are not kept, so such a request can
be retried. A mobile app that loses its connection after sending a resident visit can thus send it
again without making two.

The key row is written in a transaction of its own before the request runs and completed, with the answer,
before the answer's last byte is sent (so a client that sends the key again once it has the answer is
replayed, not told 409);
a process that dies in between leaves a row ``in_progress``, which another attempt takes over after
``ABANDONED_AFTER``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table, func
from sqlalchemy.dialects.postgresql import JSONB, insert
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import TokenVerifier, bearer_token
from shared.i18n import Message as Text
from shared.problems import Conflict, FieldError, Problem, UnprocessableContent, problem_response

KEY_LIFETIME = timedelta(hours=24)
ABANDONED_AFTER = timedelta(seconds=60)
REPLAYED_HEADERS = {"content-type", "etag", "location", "content-language"}
MAX_KEY_LENGTH = 200
# Printable ASCII (an sf-string's characters, quotes allowed): it is stored, logged and compared as text.
KEY_PATTERN = r"^[\x20-\x7e]{1,200}$"
VALID_KEY = re.compile(KEY_PATTERN)
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "幂等键 a key of the caller's choosing (printable ASCII, 1–200): the same key with the same body "
        "answers the stored response again (Idempotency-Replayed: true); with another body 422; while the "
        "first request still runs 409"
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
}


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("principal", String(120), nullable=False),
        Column("key", String(200), nullable=False),
        Column("fingerprint", String(64), nullable=False, comment="sha256 of method, path and body"),
        Column("state", String(12), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("headers", JSONB, nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("principal", "key"),
    )


class IdempotencyMiddleware:
    """Pure ASGI; inside the request-id middleware. Needs ``app.state.engine`` and ``token_verifier``."""

    def __init__(self, app: ASGIApp, *, table: Table) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get("idempotency-key")
        token = bearer_token(request)
        if not key or token is None:
            await self.app(scope, receive, send)
            return
        verifier: TokenVerifier = scope["app"].state.token_verifier
        try:
            principal = (await verifier.verify(token)).subject
        except Problem:
            await self.app(scope, receive, send)  # the endpoint answers 401
            return
        if not VALID_KEY.fullmatch(key):
            await problem_response(_invalid_key(key), request)(scope, receive, send)
            return
        body = await request.body()
        fingerprint = hashlib.sha256(b"\n".join([scope["method"].encode(), scope["path"].encode(), body])).hexdigest()
        engine = scope["app"].state.engine
        claimed, existing = await self._claim(engine, principal, key, fingerprint)
        if not claimed:
            assert existing is not None
            if existing["fingerprint"] != fingerprint:
                problem: Problem = UnprocessableContent(
                    Text("Idempotency-Key 已用于不同的请求", "This Idempotency-Key was used for a different request")
                )
            elif existing["state"] != "completed":
                problem = Conflict(
                    Text("相同 Idempotency-Key 的请求仍在处理", "A request with this Idempotency-Key is still running")
                )
            else:
                await self._replay(existing, send)
                return
            await problem_response(problem, request)(scope, receive, send)
            return

        sent = False

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        completed = False

        async def capture(message: Message) -> None:
            nonlocal status, headers, completed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    # Completed before the client has the whole answer: a client that sends the same key
                    # again as soon as it has the answer (or has lost it) is replayed, never told 409.
                    completed = True
                    await self._complete(engine, principal, key, status, headers, b"".join(chunks))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if not completed:
                await self._complete(engine, principal, key, status, headers, b"".join(chunks))

    async def _claim(
        self, engine: Any, principal: str, key: str, fingerprint: str
    ) -> tuple[bool, dict[str, Any] | None]:
        t = self.table
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            inserted = await conn.execute(
                insert(t)
                .values(principal=principal, key=key, fingerprint=fingerprint, state="in_progress", created_at=now)
                .on_conflict_do_nothing()
                .returning(t.c.key)
            )
            if inserted.first() is not None:
                return True, None
            row = (
                (await conn.execute(t.select().where(t.c.principal == principal, t.c.key == key).with_for_update()))
                .mappings()
                .one()
            )
            stale = row["created_at"] < now - KEY_LIFETIME or (
                row["state"] == "in_progress" and row["created_at"] < now - ABANDONED_AFTER
            )
            if stale:
                await conn.execute(
                    t.update()
                    .where(t.c.principal == principal, t.c.key == key)
                    .values(
                        fingerprint=fingerprint,
                        state="in_progress",
                        created_at=now,
                        status_code=None,
                        headers=None,
                        body=None,
                    )
                )
                return True, None
            return False, dict(row)

    async def _complete(
        self, engine: Any, principal: str, key: str, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        t = self.table
        where = (t.c.principal == principal, t.c.key == key)
        async with engine.begin() as conn:
            if status >= 500:
                await conn.execute(t.delete().where(*where))  # not kept: the client may try again
                return
            kept = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in headers
                if k.decode("latin-1").lower() in REPLAYED_HEADERS
            }
            await conn.execute(
                t.update().where(*where).values(state="completed", status_code=status, headers=kept, body=body)
            )

    async def _replay(self, row: dict[str, Any], send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (row["headers"] or {}).items()]
        headers.append((b"idempotency-replayed", b"true"))
        body: bytes = row["body"] or b""
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": row["status_code"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _invalid_key(key: str) -> Problem:
    if len(key) > MAX_KEY_LENGTH:
        detail = Text("Idempotency-Key 过长（最多200字符）", "Idempotency-Key is too long (200 at most)")
    else:
        detail = Text(
            "Idempotency-Key 只能由可打印的 ASCII 字符组成", "Idempotency-Key must be printable ASCII characters"
        )
    pointer = "/header/Idempotency-Key"
    return UnprocessableContent(detail, errors=[FieldError.of("Idempotency-Key", detail, pointer=pointer)])
