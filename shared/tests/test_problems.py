"""RFC 9457 problem+json for every kind of error, in zh-CN and en, with no stack trace for clients."""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from shared.i18n import Message
from shared.problems import PROBLEM_MEDIA_TYPE, Conflict, UnprocessableContent, install_problem_handlers
from shared.request_context import RequestIdMiddleware


class CommunityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    households: int = Field(ge=0)


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestIdMiddleware, access_log=False)

    @app.post("/communities")
    async def create(body: CommunityIn) -> CommunityIn:
        return body

    @app.post("/hire")
    async def hire() -> None:
        raise UnprocessableContent(
            Message("超出县 {county} 的员额", "Beyond the quota of county {county}"), rule="S5", county="330302"
        )

    @app.post("/dup")
    async def dup() -> None:
        raise Conflict(Message("重复", "Duplicate"))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_validation_error_is_problem_json_naming_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/communities", json={"name": "", "households": "many", "extra": 1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"].endswith("/validation-error")
    assert body["title"] == "输入校验未通过"
    assert body["status"] == 422
    assert body["instance"] == "/communities"
    assert body["request_id"] == response.headers["x-request-id"]
    pointers = {e["pointer"]: e for e in body["errors"]}
    assert set(pointers) == {"/body/name", "/body/households", "/body/extra"}
    assert pointers["/body/households"]["detail"] == "应为整数"
    assert pointers["/body/extra"]["type"] == "extra_forbidden"
    assert "households" in body["detail"]


async def test_validation_error_in_english_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.post("/communities", json={"households": 1}, headers={"Accept-Language": "en-GB"})
    body = response.json()
    assert response.headers["content-language"] == "en"
    assert body["title"] == "Validation failed"
    assert body["errors"][0]["field"] == "name"
    assert body["errors"][0]["detail"] == "Field required"


async def test_malformed_json_is_a_422_problem_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/communities", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_rule_problem_carries_the_rule_id_and_parameters(client: httpx.AsyncClient) -> None:
    zh = (await client.post("/hire")).json()
    en = (await client.post("/hire", headers={"Accept-Language": "en"})).json()
    assert zh["rule"] == en["rule"] == "S5"
    assert zh["detail"] == "超出县 330302 的员额"
    assert en["detail"] == "Beyond the quota of county 330302"


async def test_conflict_and_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    assert (await client.post("/dup")).json()["status"] == 409
    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert missing.json()["detail"] == "没有这个地址：/nowhere"
    wrong = await client.get("/communities")
    assert wrong.status_code == 405
    assert wrong.json()["type"].endswith("/method-not-allowed")


async def test_unexpected_error_is_a_500_problem_without_internals(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-request-id"] == "req-boom-1"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["request_id"] == "req-boom-1"
    # The operators still get the trace, in the log.
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)
