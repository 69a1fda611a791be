"""X-Request-ID: taken when sane, made otherwise, echoed on every response, visible in logs."""

import logging

import httpx
import pytest
from fastapi import FastAPI

from shared.logs import RequestIdFilter
from shared.request_context import RequestIdMiddleware, current_request_id


def build_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware, access_log=True)

    @app.get("/id")
    async def echo_id() -> dict[str, str | None]:
        logging.getLogger("test.handler").info("inside")
        return {"request_id": current_request_id()}

    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url="http://test")


async def test_caller_id_is_kept_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/id", headers={"X-Request-ID": "mobile-42:abc"})
    assert response.headers["x-request-id"] == "mobile-42:abc"
    assert response.json() == {"request_id": "mobile-42:abc"}


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "<script>"])
async def test_unsafe_or_missing_id_is_replaced(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.get("/id", headers={"X-Request-ID": bad} if bad else {})
    made = response.headers["x-request-id"]
    assert made != bad
    assert len(made) == 32
    assert response.json() == {"request_id": made}


async def test_log_records_carry_the_request_id(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RequestIdFilter("test"))
    with caplog.at_level(logging.INFO):
        await client.get("/id", headers={"X-Request-ID": "trace-me"})
    inside = [r for r in caplog.records if r.getMessage() == "inside"]
    access = [r for r in caplog.records if r.name == "shegong.access"]
    assert inside[0].request_id == "trace-me"  # type: ignore[attr-defined]
    assert access[0].request_id == "trace-me"  # type: ignore[attr-defined]
    assert access[0].status == 200  # type: ignore[attr-defined]
    assert current_request_id() is None
