"""The request id: taken from ``X-Request-ID`` or made, kept in a context variable, echoed back.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: it would buffer streaming responses). It also writes
one JSON access-log line per request with its status and duration, and, when tracing is on
(:mod:`shared.tracing`), puts the id on the request's span as ``shegong.request_id``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_ATTRIBUTE = "shegong.request_id"  # on the request's span, when tracing is on
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Accept a caller's id only if it is short and printable: it ends up in logs, events and audit rows.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_access_log = logging.getLogger("shegong.access")


def current_request_id() -> str | None:
    """The id of the request being served, or ``None`` outside a request."""
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes or makes ``X-Request-ID``, sets it for the request, returns it on the response."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_ID.match(incoming) else new_request_id()
        token = request_id_var.set(request_id)
        # On the request's span when tracing is on (shared.tracing); a no-op otherwise.
        trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        header_value = request_id.encode("latin-1")
        started = time.perf_counter()
        status_holder: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder.append(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", header_value))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log:
                _access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status_holder[0] if status_holder else 500,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            request_id_var.reset(token)
