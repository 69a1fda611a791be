"""Service-to-service client: request id passed on, bounded retries for idempotent calls only.

The upstream here is ``httpx.MockTransport``: the test needs an upstream that fails on cue (503 twice,
then 200), which no real service of ours does on demand.
"""

import httpx

from shared.http_client import request_with_retries
from shared.request_context import request_id_var


def flaky(failures: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            return httpx.Response(503)
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handle)


def client_on(transport: httpx.MockTransport) -> httpx.AsyncClient:
    from shared.http_client import _pass_request_id

    return httpx.AsyncClient(transport=transport, event_hooks={"request": [_pass_request_id]})


async def test_get_is_retried_until_it_succeeds_and_carries_the_request_id() -> None:
    seen: list[httpx.Request] = []
    token = request_id_var.set("req-77")
    try:
        async with client_on(flaky(2, seen)) as client:
            response = await request_with_retries(client, "GET", "http://roster/v1/events")
    finally:
        request_id_var.reset(token)
    assert response.status_code == 200
    assert len(seen) == 3
    assert {r.headers["x-request-id"] for r in seen} == {"req-77"}


async def test_retries_are_bounded_and_the_last_answer_is_returned() -> None:
    seen: list[httpx.Request] = []
    async with client_on(flaky(10, seen)) as client:
        response = await request_with_retries(client, "GET", "http://roster/v1/events", attempts=3)
    assert response.status_code == 503
    assert len(seen) == 3


async def test_post_is_never_retried() -> None:
    seen: list[httpx.Request] = []
    async with client_on(flaky(1, seen)) as client:
        response = await request_with_retries(client, "POST", "http://roster/v1/workers", json={})
    assert response.status_code == 503
    assert len(seen) == 1
