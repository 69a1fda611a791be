"""Inputs PostgreSQL can store: bounded numbers, business years and months, money, text without NUL.

"No 500, ever": a value the database would refuse must be refused at the door, as a 422 naming the
field, not discovered by the database as a 500. The types here are the one place those bounds live:

- :data:`Year` — a business year, 2000–2100 (``SMALLINT`` columns; the policy's own range).
- :data:`Month` — ``YYYY-MM`` in ASCII digits with a year in :data:`Year`'s range (``\\d`` would take
  any script's digits, and ``0000-01`` is no month ``date`` can hold).
- :data:`Count` and :data:`SmallCount` — non-negative integers within ``INTEGER`` / ``SMALLINT``.
- :data:`Money` — a non-negative decimal amount with two places that fits ``NUMERIC(12,2)``.

PostgreSQL's text types cannot hold the NUL character (U+0000), and no field of this API has a use for
it. :class:`NulCharacterMiddleware` refuses it wherever it comes — path, query, JSON or form body — with
a 422 whose pointer names the field, before any route runs, so no ``str`` field anywhere needs to
remember it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote

from fastapi import Path, Query
from pydantic import Field
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.glossary import GLOSSARY
from shared.i18n import Message as Text
from shared.problems import FieldError, UnprocessableContent, problem_response

YEAR_MIN, YEAR_MAX = 2000, 2100
INT4_MAX = 2**31 - 1
INT2_MAX = 2**15 - 1
MONEY_MAX = Decimal("9999999999.99")  # NUMERIC(12,2)

Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
"""A business year (pay, budgets, assessments, quotas): 2000–2100."""
YearPath = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX)]
"""A business year as a path parameter (``/…/{year}``)."""

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2025-03"])]
"""A month ``YYYY-MM`` of a business year."""


def year_query(description: str = GLOSSARY["year"]) -> Any:
    """``Query`` of a business year (``?year=``) within its bounds, described as the glossary does unless the
    route says which year it is."""
    return Query(ge=YEAR_MIN, le=YEAR_MAX, description=description)


def month_query(description: str = GLOSSARY["month"]) -> Any:
    """``Query`` of a month ``YYYY-MM`` (``?month=``), described as the glossary does unless the route says more."""
    return Query(pattern=MONTH_PATTERN, description=description)


YearQuery = Annotated[int, year_query()]
"""A business year as a query parameter."""
MonthQuery = Annotated[str, month_query()]
"""A month ``YYYY-MM`` as a query parameter."""

Count = Annotated[int, Field(ge=0, le=INT4_MAX)]
"""A non-negative count that fits ``INTEGER``."""

SmallCount = Annotated[int, Field(ge=0, le=INT2_MAX)]
"""A non-negative count that fits ``SMALLINT``."""

Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2, ge=0, le=MONEY_MAX)]
"""An amount in yuan, not negative, with at most two places, that fits ``NUMERIC(12,2)`` (``Field(gt=0)`` adds
a positive bound; a constraint given again on the field does not loosen these)."""

_NUL = Text("不得包含空字符（U+0000）", "must not contain the NUL character (U+0000)")


def _nul_pointer(node: Any, pointer: str) -> str | None:
    """The JSON pointer of the first string (or key) in ``node`` holding U+0000, if any."""
    if isinstance(node, str):
        return pointer if "\x00" in node else None
    if isinstance(node, dict):
        for key, value in node.items():
            here = pointer + "/" + str(key).replace("~", "~0").replace("/", "~1")
            if "\x00" in str(key):
                return here
            found = _nul_pointer(value, here)
            if found is not None:
                return found
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _nul_pointer(item, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


def _refusal(pointer: str) -> UnprocessableContent:
    field = pointer.rsplit("/", 1)[-1] or pointer
    return UnprocessableContent(
        Text("以下字段不正确：{fields}", "Invalid fields: {fields}"),
        errors=[FieldError.of(field, _NUL, pointer=pointer, type="string_nul")],
        fields=field,
    )


def _may_hold_nul(content_type: str) -> bool:
    """A JSON or form body is read whole to look for a NUL (one without a content type too: FastAPI reads it
    as JSON); any other (a spreadsheet upload, multipart) streams on untouched, to the route or the proxy."""
    return not content_type or "json" in content_type or "form-urlencoded" in content_type


class NulCharacterMiddleware:
    """Refuses U+0000 in the path, the query and JSON or form bodies with a 422 naming the field.

    Pure ASGI, inside the request-id middleware. A body is read only when it may hold a NUL: JSON can
    carry one only as the escape ``\\u0000``, a form only as ``%00``; other bodies are not read here (an
    upload streams on).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        pointer = self._in_url(scope)
        content_type = request.headers.get("content-type", "")
        if pointer is None and scope["method"] in {"POST", "PUT", "PATCH", "DELETE"} and _may_hold_nul(content_type):
            body = await request.body()
            pointer = self._in_body(body, content_type)

            sent = False

            async def replay() -> Message:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay
        if pointer is not None:
            await problem_response(_refusal(pointer), request)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _in_url(scope: Scope) -> str | None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if b"%00" in raw_path or b"\x00" in raw_path or "\x00" in scope["path"]:
            return "/path"
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    return "/query/" + unquote(name).replace("\x00", "")
            return "/query"
        return None

    @staticmethod
    def _in_body(body: bytes, content_type: str) -> str | None:
        if not content_type or "json" in content_type:
            if b"\\u0000" not in body.lower():
                return None
            try:
                return _nul_pointer(json.loads(body), "/body")
            except ValueError:
                return None  # not JSON: the route answers that
        if "form-urlencoded" in content_type and b"%00" in body:
            for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    return "/body/" + name.replace("\x00", "")
        return None
