"""Optimistic concurrency: ``ETag`` from a row's version, ``If-Match`` required on updates.

Missing ``If-Match`` → 428; a stale one → 412 (CONVENTIONS: writes). The UPDATE itself also checks the
version in its WHERE clause, so two writers with the same ETag cannot both win.
"""

from __future__ import annotations

from fastapi import Request

from shared.i18n import Message
from shared.problems import PreconditionFailed, PreconditionRequired


def etag(resource_id: object, version: int) -> str:
    return f'"{resource_id}-{version}"'


def check_if_match(request: Request, resource_id: object, version: int) -> None:
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(
            Message("修改需要 If-Match 请求头（取自 ETag）", "Updates need an If-Match header (from the ETag)")
        )
    # Strong comparison (RFC 9110 §13.1.1): a weak validator W/"…" never matches an If-Match.
    candidates = {tag.strip() for tag in header.split(",")}
    if "*" not in candidates and etag(resource_id, version) not in candidates:
        raise PreconditionFailed(
            Message("资源已被他人修改，请重新读取", "The resource has changed since it was read; read it again")
        )
