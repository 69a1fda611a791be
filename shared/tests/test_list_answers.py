"""A list route that names its export answers itself: the operation it documents is the one a route taking
``ListAnswer`` / ``PagedAnswer`` documents (same parameters in the same order, same responses), its rows go
out as JSON or as the file asked for, and a paged route's function must take the page it is asked for first."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.list_answers import ListAnswer, PagedAnswer, list_route, paged_route
from shared.pagination import Page, PageAt

Region = Annotated[str | None, Query(description="区划 region")]


class Row(BaseModel):
    code: str = Field(description="代码 code")


ROWS = [Row(code="330102"), Row(code="330103")]


def _operations(router: APIRouter) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    paths = app.openapi()["paths"]
    return {path: operation["get"] for path, operation in paths.items()}


def _taking_the_answer() -> APIRouter:
    router = APIRouter()

    @list_route(router, "/rows", Row, summary="行 rows")
    async def list_rows(answer: ListAnswer, region: Region = None) -> Any:
        return await answer(ROWS, Row, "rows")

    @paged_route(router, "/pages", Row, summary="页 pages", problems=(400, 404))
    async def list_pages(answer: PagedAnswer, region: Region = None) -> Any:
        async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[Row]:
            return Page(items=ROWS[:limit], next_cursor=None)

        return await answer(page, Row, "pages")

    return router


def _answering_itself() -> APIRouter:
    router = APIRouter()

    @list_route(router, "/rows", Row, "rows", summary="行 rows")
    async def list_rows(region: Region = None) -> list[Row]:
        return ROWS

    @paged_route(router, "/pages", Row, "pages", summary="页 pages", problems=(400, 404))
    async def list_pages(at: PageAt, region: Region = None) -> Page[Row]:
        return Page(items=ROWS[: at.limit], next_cursor=None)

    return router


def test_a_self_answering_route_documents_the_same_operation() -> None:
    documented = _operations(_answering_itself())
    assert documented == _operations(_taking_the_answer())
    assert [p["name"] for p in documented["/pages"]["parameters"]] == ["region", "limit", "cursor", "format", "charset"]


async def test_a_whole_list_answers_its_rows_as_json_or_as_the_file_asked_for() -> None:
    router = APIRouter()

    @list_route(router, "/rows", Row, "rows", summary="行 rows")
    async def list_rows(region: Region = None) -> list[Row]:
        return [row for row in ROWS if region is None or row.code == region]

    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/rows", params={"region": "330103"})).json() == [{"code": "330103"}]
        exported = await client.get("/rows", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="rows' in exported.headers["content-disposition"]
    assert exported.content.decode("utf-8-sig").splitlines()[1:] == ["330102", "330103"]


def test_a_paged_route_takes_the_page_it_is_asked_for_first() -> None:
    with pytest.raises(TypeError, match="PageAt"):

        @paged_route(APIRouter(), "/pages", Row, "pages", summary="页 pages")
        async def pages(region: Region = None) -> Page[Row]:
            return Page(items=ROWS, next_cursor=None)
