"""Gateway test helpers: accounts made by a factory in the test's transaction, and sign-in."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import InProcessService, ServiceFactory
from services.gateway.models import ApiClient, Grant, User

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    id: uuid.UUID
    username: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )


AccountFactory = Callable[..., Awaitable[Account]]


@pytest.fixture
async def gateway(service_app: ServiceFactory) -> InProcessService:
    return await service_app("gateway")


async def make_account(
    gateway: InProcessService,
    *grants: tuple[str, str],
    pd: tuple[str, ...] = (),
    username: str | None = None,
    phone: str | None = "13812345678",
    worker_id: str | None = None,
) -> Account:
    """A user with these grants, made in the test's transaction, signed in."""
    name = username or f"u{uuid.uuid4().hex[:10]}"
    async with gateway.app.state.sessionmaker() as session:
        user = User(
            username=name,
            name="测试",
            phone=phone,
            password_hash=gateway.app.state.hasher.hash(PASSWORD),
            worker_id=worker_id,
        )
        session.add(user)
        await session.flush()
        for right, region in [*grants, *(("personal_data", r) for r in pd)]:
            session.add(Grant(user_id=user.id, right=right, region=region, granted_by="test"))
        await session.commit()
        user_id = user.id
    response = await sign_in(gateway.client, name)
    assert response.status_code == 200, response.text
    body = response.json()
    return Account(user_id, name, body["access_token"], body["refresh_token"])


async def make_client(gateway: InProcessService, client_id: str, *grants: tuple[str, str]) -> tuple[str, str]:
    """An API client with these grants, made in the test's transaction: its secret and an access token."""
    secret = secrets.token_urlsafe(32)
    async with gateway.app.state.sessionmaker() as session:
        client = ApiClient(
            client_id=client_id, name=client_id, department="测试", secret_hash=gateway.app.state.hasher.hash(secret)
        )
        session.add(client)
        await session.flush()
        for right, region in grants:
            session.add(Grant(client_pk=client.id, right=right, region=region, granted_by="test"))
        await session.commit()
    response = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return secret, str(response.json()["access_token"])


@pytest.fixture
def account(gateway: InProcessService) -> AccountFactory:
    """``await account(("county_admin", "330302"), pd=["330302"])``: a user with these grants, signed in."""

    async def make(*grants: tuple[str, str], **options: Any) -> Account:
        return await make_account(gateway, *grants, **options)

    return make
