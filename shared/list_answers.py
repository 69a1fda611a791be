"""The answer of a list operation, defined once: the JSON list (or page) or the file the caller asked for.

A list route is declared with :func:`list_route` and takes :data:`ListAnswer` (the whole list: ``await
answer(rows, RowOut, "name")``), or with :func:`paged_route` and takes :data:`PagedAnswer` (keyset pages:
``await answer(page, RowOut, "name")``, where ``page(session, cursor, limit)`` is the JSON list's own page
function, so the file holds exactly the pages' rows, scope and filters). Both answers read ``format`` /
``charset`` / ``Accept`` (:data:`shared.exports.ExportDep`); the paged one also reads ``limit`` and ``cursor``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.types import DecoratedCallable
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from shared.db import SessionDep
from shared.exports import EXPORT_RESPONSES, Export, ExportDep, exported, page_or_file
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from shared.problems import problem_responses

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


async def _whole_list(request: Request, export: ExportDep) -> WholeList:
    return WholeList(request, export)


async def _paged_list(
    request: Request,
    export: ExportDep,
    session: SessionDep,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> PagedList:
    return PagedList(request, export, session, limit, cursor)


ListAnswer = Annotated[WholeList, Depends(_whole_list)]
PagedAnswer = Annotated[PagedList, Depends(_paged_list)]


def list_route(
    router: APIRouter, path: str, model: type[BaseModel], *, problems: Iterable[int] = (401, 403, 404), **doc: Any
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.get`` of a list operation answering every row: JSON ``list[model]`` or the file asked for
    (the responses document ``problems`` and the files); ``doc``: summary, description…"""
    responses = problem_responses(*problems) | EXPORT_RESPONSES
    return router.get(path, response_model=list[model], responses=responses, **doc)  # type: ignore[valid-type]


def paged_route(
    router: APIRouter, path: str, model: type[BaseModel], *, problems: Iterable[int] = (400, 401, 403), **doc: Any
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.get`` of a keyset-paged list operation: JSON ``Page[model]`` or the whole list as a file."""
    responses = problem_responses(*problems) | EXPORT_RESPONSES
    return router.get(path, response_model=Page[model], responses=responses, **doc)  # type: ignore[valid-type]
