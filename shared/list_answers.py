"""The answer of a list operation, defined once: the JSON list (or page) or the file the caller asked for.

A list route is declared with :func:`list_route` and a keyset-paged one with :func:`paged_route`, each naming
its row model and the export's file name once; the route then answers itself:

- a whole list's function returns its rows (``-> list[RowOut]``), sent as JSON or as the file asked for;
- a paged list's function is the list's page function: its first parameter, a :class:`shared.pagination.PageAt`,
  is the page asked for (``at.session``, ``at.cursor``, ``at.limit``, handed on to the list's use case), the
  others are read from the request as usual. The JSON answer is the page asked for; a file holds every page,
  read batch after batch with the same function (so exactly the pages' rows, scope and filters).

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
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageAt
from shared.problems import problem_responses

T = TypeVar("T", bound=BaseModel)
Endpoint = Callable[..., Awaitable[Any]]
Model = type[BaseModel]

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


async def _answer_rows(endpoint: Endpoint, answer: WholeList, values: dict[str, Any], model: Model, name: str) -> Any:
    return await answer(list(await endpoint(**values)), model, name)


async def _answer_pages(endpoint: Endpoint, answer: PagedList, values: dict[str, Any], model: Model, name: str) -> Any:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[Any]:
        return cast("Page[Any]", await endpoint(PageAt(session, cursor, limit), **values))

    return await answer(page, model, name)


@dataclass(frozen=True)
class ListOperation:
    """A kind of list operation, declared on a router by calling it: ``(router, path, model, name, *, problems,
    **doc)`` is ``@router.get`` answering JSON ``json(model)`` or the file asked for (the responses document
    ``problems`` and the files; ``doc``: summary, description…). With the export's file ``name`` the route
    answers itself (``respond``): the function's parameters but the ``leading`` ones it is given are read from
    the request, after the answer's dependency (first, as a list's ``answer`` parameter always was, so the
    operation's parameters keep their order)."""

    json: Callable[[Model], Any]
    answer: Any  # the answer's dependency: ListAnswer or PagedAnswer
    respond: Callable[[Endpoint, Any, dict[str, Any], Model, str], Awaitable[Any]]
    problems: tuple[int, ...]
    leading: tuple[type, ...] = ()

    def __call__(
        self,
        router: APIRouter,
        path: str,
        model: Model,
        name: str | None = None,
        *,
        problems: Iterable[int] | None = None,
        **doc: Any,
    ) -> Callable[[DecoratedCallable], DecoratedCallable]:
        responses = problem_responses(*(self.problems if problems is None else problems)) | EXPORT_RESPONSES
        register = router.get(path, response_model=self.json(model), responses=responses, **doc)
        if name is None:
            return register
        export_name = name

        def decorate(endpoint: DecoratedCallable) -> DecoratedCallable:
            register(self._route(endpoint, model, export_name))
            return endpoint

        return decorate

    def _route(self, endpoint: Endpoint, model: Model, name: str) -> Endpoint:
        parameters = list(inspect.signature(endpoint, eval_str=True).parameters.values())
        given, read = parameters[: len(self.leading)], parameters[len(self.leading) :]
        if [p.annotation for p in given] != list(self.leading) or any(p.name == "answer" for p in read):
            raise TypeError(f"{endpoint.__name__}: a list route's function takes {self.leading} first, no 'answer'")
        first = inspect.Parameter("answer", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=self.answer)

        @functools.wraps(endpoint)
        async def route(answer: Any, **values: Any) -> Any:
            return await self.respond(endpoint, answer, values, model, name)

        route.__signature__ = inspect.Signature([first, *read])  # type: ignore[attr-defined]
        return route


# A list operation answering every row: JSON ``list[model]``; with a name, the function returns its rows.
list_route = ListOperation(lambda model: list[model], ListAnswer, _answer_rows, (401, 403, 404))  # type: ignore[valid-type]
# A keyset-paged one: JSON ``Page[model]``; with a name, the function is the page function (first: a PageAt).
paged_route = ListOperation(lambda model: Page[model], PagedAnswer, _answer_pages, (400, 401, 403), (PageAt,))  # type: ignore[valid-type]
