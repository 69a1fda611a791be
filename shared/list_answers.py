"""The answer of a list operation, defined once: the JSON list (or page) or the file the caller asked for.

A list route is declared with :func:`list_route` and a keyset-paged one with :func:`paged_route`, each naming
its row model and the export's file name once; the route then answers itself:

- a whole list's function returns its rows (``-> list[RowOut]``), sent as JSON or as the file asked for;
- a paged list's function is the list's page function: its first parameter, a :class:`PageAt`, is the page
  asked for (``at.session``, ``at.cursor``, ``at.limit``), the others are read from the request as usual. The
  JSON answer is the page asked for; a file holds every page, read batch after batch with the same function
  (so exactly the pages' rows, scope and filters).

Both answers read ``format`` / ``charset`` / ``Accept`` (:data:`shared.exports.ExportDep`); the paged one also
reads ``limit`` and ``cursor``. (A route without an export name takes :data:`ListAnswer` or :data:`PagedAnswer`
and calls it: ``await answer(rows, RowOut, "name")``.)
"""

from __future__ import annotations

import functools
import inspect
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
Endpoint = Callable[..., Awaitable[Any]]

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


@dataclass(frozen=True)
class PageAt:
    """The page a paged list's function is asked for: read with ``session``, after ``cursor``, ``limit`` rows."""

    session: AsyncSession
    cursor: str | None
    limit: int


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


def _answering(endpoint: Endpoint, answer: Any, respond: Callable[..., Awaitable[Any]], skip: int = 0) -> Endpoint:
    """``endpoint`` as FastAPI's route: its parameters but the first ``skip`` ones, after ``answer`` (the
    answer's dependency, first as a list's ``answer`` parameter always was, so the operation's parameters keep
    their order); it calls ``respond(answer, values)`` with the endpoint's parameter values."""
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = list(signature.parameters.values())[skip:]
    if any(p.name == "answer" for p in parameters):
        raise TypeError(f"{endpoint.__name__}: a self-answering list route takes no parameter named 'answer'")
    first = inspect.Parameter("answer", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=answer)

    @functools.wraps(endpoint)
    async def route(answer: Any, **values: Any) -> Any:
        return await respond(answer, values)

    route.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[first, *parameters], return_annotation=inspect.Signature.empty
    )
    return route


def list_route(
    router: APIRouter,
    path: str,
    model: type[BaseModel],
    name: str | None = None,
    *,
    problems: Iterable[int] = (401, 403, 404),
    **doc: Any,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.get`` of a list operation answering every row: JSON ``list[model]`` or the file asked for
    (the responses document ``problems`` and the files); ``doc``: summary, description… With the export's
    file ``name``, the function returns its rows and the route answers them."""
    responses = problem_responses(*problems) | EXPORT_RESPONSES
    register = router.get(path, response_model=list[model], responses=responses, **doc)  # type: ignore[valid-type]
    if name is None:
        return register
    export_name = name

    def decorate(endpoint: DecoratedCallable) -> DecoratedCallable:
        async def respond(answer: WholeList, values: dict[str, Any]) -> Any:
            return await answer(list(await endpoint(**values)), model, export_name)

        register(_answering(endpoint, ListAnswer, respond))
        return endpoint

    return decorate


def paged_route(
    router: APIRouter,
    path: str,
    model: type[BaseModel],
    name: str | None = None,
    *,
    problems: Iterable[int] = (400, 401, 403),
    **doc: Any,
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """``@router.get`` of a keyset-paged list operation: JSON ``Page[model]`` or the whole list as a file. With
    the export's file ``name``, the function is the page function (its first parameter a :class:`PageAt`) and
    the route answers with it."""
    responses = problem_responses(*problems) | EXPORT_RESPONSES
    register = router.get(path, response_model=Page[model], responses=responses, **doc)  # type: ignore[valid-type]
    if name is None:
        return register
    export_name = name

    def decorate(endpoint: DecoratedCallable) -> DecoratedCallable:
        first = next(iter(inspect.signature(endpoint, eval_str=True).parameters.values()), None)
        if first is None or first.annotation is not PageAt:
            raise TypeError(f"{endpoint.__name__}: a paged route's first parameter is the PageAt it is asked for")

        async def respond(answer: PagedList, values: dict[str, Any]) -> Any:
            async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[Any]:
                return cast("Page[Any]", await endpoint(PageAt(session, cursor, limit), **values))

            return await answer(page, model, export_name)

        register(_answering(endpoint, PagedAnswer, respond, skip=1))
        return endpoint

    return decorate
