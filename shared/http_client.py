"""The one pooled HTTP client per process for service-to-service calls (ARCHITECTURE rule 2).

``httpx.AsyncClient`` on the aiohttp transport (httpx's own pool degrades under concurrency,
encode/httpx#3215), with explicit timeouts and limits, the caller's request id passed on, and bounded
retries (tenacity) for idempotent calls only.
"""

from __future__ import annotations

from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shared.request_context import REQUEST_ID_HEADER, current_request_id
from shared.settings import ServiceSettings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


async def _pass_request_id(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id


def make_http_client(settings: ServiceSettings, **kwargs: Any) -> httpx.AsyncClient:
    """Create the process's client; the app's lifespan creates one and closes it."""
    limits = httpx.Limits(
        max_connections=settings.http_max_connections,
        max_keepalive_connections=settings.http_max_connections,
    )
    timeout = httpx.Timeout(settings.http_timeout_seconds, connect=settings.http_connect_timeout_seconds)
    return httpx.AsyncClient(
        transport=kwargs.pop("transport", None) or AiohttpTransport(limits=limits),
        timeout=timeout,
        limits=limits,
        event_hooks={"request": [_pass_request_id]},
        **kwargs,
    )


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url} -> {response.status_code}")
        self.response = response


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | RetryableStatus)


async def request_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    attempts: int = 3,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; retry transport errors and 502/503/504 only when the method is idempotent.

    A POST is sent once: it may have taken effect even when its answer was lost.
    """
    method = method.upper()
    if method not in IDEMPOTENT_METHODS:
        return await client.request(method, url, **kwargs)
    response: httpx.Response | None = None
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential_jitter(multiplier=0.05, jitter=0.05, max=1.0),
            retry=retry_if_exception(_retryable),
            reraise=True,
        ):
            with attempt:
                response = await client.request(method, url, **kwargs)
                if response.status_code in RETRY_STATUSES:
                    raise RetryableStatus(response)
    except RetryableStatus as exc:
        return exc.response
    assert response is not None
    return response
