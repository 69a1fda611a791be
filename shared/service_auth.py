"""A service's own credentials for calling the others: OAuth2 client credentials, token cached.

Each service has its API client (``SHEGONG_<SERVICE>_CLIENT_ID`` / ``…_CLIENT_SECRET``, made by the
bootstrap of the embedded default or by an administrator). :class:`ServiceCredentials` gets an access
token from the gateway, keeps it until shortly before it expires, and puts it on outgoing requests.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from shared.settings import ServiceSettings

RENEW_BEFORE_EXPIRY_SECONDS = 60


class ServiceCredentials:
    def __init__(self, client: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str) -> None:
        self.client = client
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, client: httpx.AsyncClient, settings: ServiceSettings) -> ServiceCredentials | None:
        if not settings.client_id or settings.client_secret is None:
            return None
        return cls(client, settings.token_url, settings.client_id, settings.client_secret.get_secret_value())

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at - RENEW_BEFORE_EXPIRY_SECONDS:
                response = await self.client.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                )
                response.raise_for_status()
                body = response.json()
                self._token = str(body["access_token"])
                self._expires_at = time.monotonic() + float(body["expires_in"])
            return self._token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token()}"}
