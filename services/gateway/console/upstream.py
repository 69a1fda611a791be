"""The console's calls to the services: over the gateway's pooled internal client, with the signed-in
user's own token, so each service decides what the user may see exactly as for any API client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from services.gateway.console.i18n import language_of
from services.gateway.console.session import ConsoleUser, User
from services.gateway.state import gateway_state


@dataclass
class ApiError(Exception):
    """A service's problem answer (RFC 9457), shown on the page in the user's language."""

    status: int
    detail: str
    body: dict[str, Any]


class ConsoleApi:
    """``await api.get("roster", "/workers", params=…)`` → the decoded JSON, or :class:`ApiError`."""

    def __init__(self, request: Request, user: ConsoleUser, language: str) -> None:
        self.http: httpx.AsyncClient = request.app.state.http
        self.upstreams: dict[str, str] = request.app.state.upstreams
        self.user = user
        self.language = language

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        accept = "en" if self.language == "en" else "zh-CN"
        return {"Authorization": f"Bearer {self.user.token}", "Accept-Language": accept, **(extra or {})}

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        url = f"{self.upstreams[service]}/v1{path}"
        try:
            response = await self.http.request(
                method, url, params=clean, json=json, files=files, headers=self._headers(headers)
            )
        except httpx.HTTPError as exc:
            message = "服务暂不可用" if self.language != "en" else "The service is unavailable"
            raise ApiError(503, f"{message}: {service}", {}) from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            detail = body.get("detail") or body.get("title") or response.reason_phrase
            raise ApiError(response.status_code, str(detail), body if isinstance(body, dict) else {})
        return response

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return (await self.send("GET", service, path, params=params)).json()

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.send("POST", service, path, json=body, **kwargs)
        return response.json() if response.content else None


async def console_api(request: Request, user: User) -> ConsoleApi:
    """The signed-in user's client in their language; the user is kept for the error page of a refusal no
    page handles (``render.api_error_page``)."""
    request.state.console_user = user
    api = ConsoleApi(request, user, language_of(request))
    await gateway_state(request).code_labels.read_missing(api)
    return api


Api = Annotated[ConsoleApi, Depends(console_api)]
