"""The NUL check reads only the bodies that may carry a NUL (JSON, forms); an upload streams through it
chunk by chunk (a workforce spreadsheet is not held whole in the gateway's or a service's memory here)."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from shared.inputs import NulCharacterMiddleware


def _scope(content_type: bytes | None) -> Scope:
    headers = [(b"content-type", content_type)] if content_type is not None else []
    return {
        "type": "http",
        "method": "POST",
        "path": "/v1/imports",
        "raw_path": b"/v1/imports",
        "query_string": b"",
        "headers": headers,
    }


async def _through(content_type: bytes | None, chunks: list[bytes]) -> tuple[list[Message], list[Message]]:
    """The messages the app behind the middleware received, and what the middleware itself sent back."""
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    seen: list[Message] = []
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await NulCharacterMiddleware(app)(_scope(content_type), receive, send)
    return seen, sent


async def test_an_upload_streams_through_in_its_chunks() -> None:
    chunks = [b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\n", b"PK\x03\x04" * 1000, b"\r\n--b--\r\n"]
    seen, sent = await _through(b"multipart/form-data; boundary=b", chunks)
    assert [m["body"] for m in seen] == chunks  # three messages, as sent: nothing read ahead and joined
    assert sent[0]["status"] == 204


async def test_a_json_body_is_read_and_a_nul_refused_naming_the_field() -> None:
    body = json.dumps({"name": "张\u0000三"}).encode()
    seen, sent = await _through(b"application/json", [body[:5], body[5:]])
    assert seen == []  # refused before the route
    assert sent[0]["status"] == 422
    problem: dict[str, Any] = json.loads(sent[1]["body"])
    assert [e["pointer"] for e in problem["errors"]] == ["/body/name"]


async def test_a_body_without_a_content_type_is_checked_as_json() -> None:
    # FastAPI reads a body with no content type as JSON, so the check does too.
    seen, sent = await _through(None, [json.dumps({"name": "a\u0000"}).encode()])
    assert seen == []
    assert sent[0]["status"] == 422


async def test_a_clean_json_body_reaches_the_route_whole() -> None:
    body = json.dumps({"name": "张三"}).encode()
    seen, sent = await _through(b"application/json", [body[:5], body[5:]])
    assert b"".join(m["body"] for m in seen) == body
    assert sent[0]["status"] == 204
