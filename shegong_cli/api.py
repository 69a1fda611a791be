"""The gateway as the CLI talks to it: bearer token (renewed with the refresh token when it expires),
``Idempotency-Key`` on every POST so a retried command changes nothing twice, rate limits waited out
(429 ``Retry-After``), and problem+json answers turned into one readable line."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import httpx

from shegong_cli import config

MAX_RATE_LIMIT_WAITS = 30


class ApiError(Exception):
    """An answer that is not a success, as one line: status, title, detail and the fields named."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        text = f"HTTP {response.status_code}"
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            text += f" {problem.get('title') or ''}: {problem.get('detail') or ''}".rstrip(": ")
            fields = [
                f"{e.get('field')}: {e.get('detail') or e.get('detail_en')}"
                + (f" ({e['rule']})" if e.get("rule") else "")
                for e in problem.get("errors") or []
            ]
            if fields:
                text += " — " + "; ".join(fields)
        elif response.text:
            text += f": {response.text[:200]}"
        super().__init__(text)


def sign_in(url: str, form: dict[str, str]) -> config.Session:
    """OAuth2 token request (password or client credentials) at the gateway."""
    response = httpx.post(f"{url.rstrip('/')}/api/v1/auth/token", data=form, timeout=30)
    if response.status_code != 200:
        raise ApiError(response)
    body = response.json()
    return config.Session(
        url=url.rstrip("/"),
        access_token=body["access_token"],
        expires_at=time.time() + float(body.get("expires_in", 600)),
        refresh_token=body.get("refresh_token"),
    )


class Api:
    def __init__(self, url: str | None, *, timeout: float = 60.0) -> None:
        token = os.environ.get("SHEGONG_TOKEN")
        saved = config.load()
        self.url = (url or (saved.url if saved else None) or config.DEFAULT_URL).rstrip("/")
        if token:
            self.session: config.Session | None = None
            self.token = token
        else:
            if saved is None:
                raise SystemExit("未登录 not signed in: run `shegong login` or set SHEGONG_TOKEN")
            self.session = saved
            self.token = saved.access_token
        self.client = httpx.Client(base_url=f"{self.url}/api/v1", timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fresh_token(self) -> str:
        if self.session is not None and self.session.expired and self.session.refresh_token:
            self.session = sign_in(
                self.url, {"grant_type": "refresh_token", "refresh_token": self.session.refresh_token}
            )
            config.save(self.session)
            self.token = self.session.access_token
        return self.token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if method == "POST":
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))  # the same key on every retry below
        for _ in range(MAX_RATE_LIMIT_WAITS):
            headers["Authorization"] = f"Bearer {self._fresh_token()}"
            response = self.client.request(method, path, headers=headers, **kwargs)
            if response.status_code != 429:
                return response
            time.sleep(float(response.headers.get("retry-after", "1")))
        return response

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> Any:
        """The JSON of a successful answer; ApiError otherwise."""
        response = self.request(method, path, **kwargs)
        if response.status_code not in ok:
            raise ApiError(response)
        return response.json() if response.content else None

    def pages(self, path: str, params: dict[str, Any]) -> Any:
        """Every item of a cursor-paginated list."""
        cursor = None
        while True:
            page = self.call("GET", path, params=params | ({"cursor": cursor} if cursor else {}))
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return
