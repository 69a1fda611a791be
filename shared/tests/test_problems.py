"""RFC 9457 problem+json for every kind of error, in zh-CN and en, with no stack trace for clients."""

from collections.abc import AsyncIterator

import asyncpg.exceptions
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import DBAPIError

from shared.i18n import Message
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    Conflict,
    FieldError,
    UnprocessableContent,
    install_problem_handlers,
    rule_violation,
)
from shared.request_context import RequestIdMiddleware


class CommunityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    households: int = Field(ge=0, description="户数 households (S2)")
    extra_staff: int = Field(0, le=50, description="增配名额 extra posts (S3)")
    note: str | None = None

    @field_validator("note")
    @classmethod
    def no_grid_duties(cls, value: str | None) -> str | None:
        if value == "grid":
            raise rule_violation("S8", "社工不承担网格员职责", "workers hold no grid-worker duties")
        return value


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

    @app.post("/refuse")
    async def refuse() -> None:
        raise UnprocessableContent(
            Message("拒绝", "Refused"),
            rule="S5",
            errors=[FieldError.of("hire_date", Message("超出员额", "beyond the quota"), rule="S5")],
        )

    @app.post("/dup")
    async def dup() -> None:
        raise Conflict(Message("重复", "Duplicate"))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/overflow")
    async def overflow() -> None:
        # What SQLAlchemy raises when asyncpg cannot encode a parameter (e.g. 60908707 for a SMALLINT).
        try:
            raise asyncpg.exceptions.DataError("invalid input for query argument $2: 60908707")
        except asyncpg.exceptions.DataError as exc:
            raise DBAPIError("SELECT …", {}, exc) from exc

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


async def test_every_field_error_carries_both_languages_the_pointer_and_the_rule(client: httpx.AsyncClient) -> None:
    """Item "Messages": each errors[] entry has detail_zh and detail_en whatever the client negotiated;
    the rule comes from a validator (S8) or from the field's description (S2, S3)."""
    bad = {"households": -1, "extra_staff": 51, "note": "grid", "extra": 1}
    for language, expected_detail in (("zh-CN", "detail_zh"), ("en", "detail_en")):
        response = await client.post("/communities", json=bad, headers={"Accept-Language": language})
        assert response.status_code == 422
        errors = {e["pointer"]: e for e in response.json()["errors"]}
        assert set(errors) == {"/body/name", "/body/households", "/body/extra_staff", "/body/note", "/body/extra"}
        for entry in errors.values():
            assert entry["detail_zh"]
            assert entry["detail_en"]
            assert entry["detail"] == entry[expected_detail]
        assert errors["/body/households"]["detail_zh"] == "应不小于 0"
        assert errors["/body/households"]["detail_en"] == "Input should be greater than or equal to 0"
        assert errors["/body/households"]["rule"] == "S2"
        assert errors["/body/extra_staff"]["detail_zh"] == "应不大于 50"
        assert errors["/body/extra_staff"]["rule"] == "S3"
        assert errors["/body/note"]["detail_zh"] == "社工不承担网格员职责"
        assert errors["/body/note"]["detail_en"] == "workers hold no grid-worker duties"
        assert (errors["/body/note"]["rule"], errors["/body/note"]["type"]) == ("S8", "rule")
        assert errors["/body/name"]["detail_zh"] == "缺少必填字段"
        assert errors["/body/name"]["rule"] is None  # no rule governs a name


async def test_a_raised_field_error_renders_both_languages(client: httpx.AsyncClient) -> None:
    zh = (await client.post("/refuse")).json()["errors"][0]
    en = (await client.post("/refuse", headers={"Accept-Language": "en"})).json()["errors"][0]
    assert zh == en | {"detail": "超出员额"}
    assert (en["detail"], en["detail_zh"], en["detail_en"], en["rule"]) == (
        "beyond the quota",
        "超出员额",
        "beyond the quota",
        "S5",
    )


async def test_a_value_the_database_refuses_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    """The safety net under the input types (shared.inputs): asyncpg's DataError family answers 422."""
    response = await client.get("/overflow", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["detail"] == "A value is outside what can be stored"
    assert "60908707" not in response.text
