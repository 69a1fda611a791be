"""The answer of a list operation, defined once: the JSON list (or page) or the file the caller asked for.

A list route takes :data:`ListAnswer` (the whole list: ``await answer(rows, RowOut, "name")``) or
:data:`PagedAnswer` (keyset pages: ``await answer(page, RowOut, "name")``, where ``page(session, cursor,
limit)`` is the JSON list's own page function, so the file holds exactly the pages' rows, scope and
filters). Both read ``format`` / ``charset`` / ``Accept`` (:data:`shared.exports.ExportDep`); the paged one
also reads ``limit`` and ``cursor``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar, cast

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from shared.db import SessionDep
from shared.exports import Export, ExportDep, exported, page_or_file
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

T = TypeVar("T", bound=BaseModel)

# Described in OpenAPI by shared.glossary ("limit", "cursor"), like every list's.
PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
PageCursor = Annotated[str | None, Query()]


@dataclass(frozen=True)
class WholeList:
    """A list operation answering with all its rows: as JSON, or as the file asked for."""

    request: Request
    export: Export | None

    async def __call__(self, rows: list[T], model: type[BaseModel], name: str) -> list[T] | StreamingResponse:
        return await exported(self.request, self.export, rows, model, name)


@dataclass(frozen=True)
class PagedList:
    """A keyset-paged list operation: the page asked for, or the whole list as the file asked for."""

    request: Request
    export: Export | None
    session: AsyncSession
    limit: int
    cursor: str | None

    async def __call__(
        self, page: Callable[[AsyncSession, str | None, int], Awaitable[Page[T]]], model: type[BaseModel], name: str
    ) -> Page[T] | StreamingResponse:
        answer = await page_or_file(self.request, self.export, self.session, self.cursor, self.limit, page, model, name)
        return cast("Page[T] | StreamingResponse", answer)


async def whole_list(request: Request, export: ExportDep) -> WholeList:
    return WholeList(request, export)


async def paged_list(
    request: Request,
    export: ExportDep,
    session: SessionDep,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> PagedList:
    return PagedList(request, export, session, limit, cursor)


ListAnswer = Annotated[WholeList, Depends(whole_list)]
PagedAnswer = Annotated[PagedList, Depends(paged_list)]
