"""Fixtures for the whole suite: one real PostgreSQL cluster per test run, migrated databases, and
in-process service apps whose every test runs in a transaction that is rolled back.

Set ``SHEGONG_TEST_POSTGRES_URL`` (``postgresql://user@host:port``) to use an existing server instead of
starting one; each run then creates and drops its own databases there.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deploy.local.postgres import LocalPostgres, free_port
from services.gateway.keys import SigningKeys, new_key
from services.gateway.tokens import issue_access_token
from shared.auth import Grant, Principal, Role, TokenVerifier
from shared.migrations import SERVICE_NAMES, settings_for, upgrade


class PostgresServer:
    """Where the test cluster is, and how to make databases on it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")  # postgresql://user@host:port

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return self.base_url.replace("postgresql://", f"{driver}://", 1) + f"/{database}"

    async def create(self, name: str) -> str:
        conn = await asyncpg.connect(self.base_url + "/postgres")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    async def drop(self, name: str) -> None:
        conn = await asyncpg.connect(self.base_url + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    external = os.environ.get("SHEGONG_TEST_POSTGRES_URL")
    if external:
        yield PostgresServer(external)
        return
    # Durability is not under test: fsync off makes the suite several times faster.
    cluster = LocalPostgres(
        tmp_path_factory.mktemp("postgres") / "data",
        free_port(),
        options={"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"},
    )
    cluster.start()
    try:
        yield PostgresServer(f"postgresql://postgres@127.0.0.1:{cluster.port}")
    finally:
        cluster.stop()
        shutil.rmtree(cluster.data_dir, ignore_errors=True)


@contextmanager
def migrated_database(postgres_server: PostgresServer, prefix: str) -> Iterator[str]:
    """A new database named ``<prefix>_<random>``, every service migrated to head, dropped afterwards."""
    import asyncio

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(postgres_server.create(name))
    for service in SERVICE_NAMES:
        upgrade(service, "head", url)
    try:
        yield url
    finally:
        asyncio.run(postgres_server.drop(name))


@pytest.fixture(scope="session")
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """One database for the in-process tests of the run. The suites of real processes (tests/e2e,
    tests/browser, tests/fuzz) each have their own: their background feed consumers must not take the
    events that an in-process test polls for itself."""
    with migrated_database(postgres_server, "shegong_test") as url:
        yield url


@pytest_asyncio.fixture
async def empty_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A database of its own for one test (migration tests go up and down in it)."""
    name = f"shegong_empty_{uuid.uuid4().hex[:8]}"
    url = await postgres_server.create(name)
    yield url
    await postgres_server.drop(name)


@pytest.fixture(scope="session")
def signing_keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Ed25519 signing key for the run: the gateway signs with it, the services verify with it."""
    folder = tmp_path_factory.mktemp("keys")
    new_key(folder)
    return folder


# Argon2 at production cost takes ~0.1 s a hash: cheap parameters keep the suite fast, same code path.
FAST_HASHING = {"password_hash_time_cost": 1, "password_hash_memory_kib": 8}


Mint = Callable[..., str]


@pytest.fixture(scope="session")
def mint(signing_keys_dir: Path) -> Mint:
    """``mint(("county_admin", "330302"), pd=["330302"])``: a valid access token with these grants."""
    keys = SigningKeys(signing_keys_dir)

    def make(
        *grants: tuple[str, str],
        pd: tuple[str, ...] = (),
        subject: str | None = None,
        worker_id: str | None = None,
        ttl: int = 300,
        token_version: int | None = None,
    ) -> str:
        principal = Principal(
            subject=subject or f"user:{uuid.uuid4()}",
            name="测试用户",
            grants=tuple(Grant(Role(role), region) for role, region in grants),
            personal_data_regions=pd,
            worker_id=worker_id,
        )
        return issue_access_token(keys, principal, ttl, token_version=token_version)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class InProcessService:
    """A service app running in the test's event loop, and an HTTP client on it."""

    app: FastAPI
    client: httpx.AsyncClient


ServiceFactory = Callable[..., Awaitable[InProcessService]]


@pytest_asyncio.fixture
async def service_app(database_url: str, signing_keys_dir: Path) -> AsyncIterator[ServiceFactory]:
    """``(await service_app("roster")).client``: an HTTP client on the service's app, run in-process.

    The app's lifespan runs for real. With ``rollback=True`` (default) every request's session joins
    one outer transaction that is rolled back after the test (SQLAlchemy's "join an external
    transaction" recipe), so tests leave nothing behind. ``rollback=False`` commits for real, for tests
    of what only committed data shows (the change feed).
    """
    async with AsyncExitStack() as stack:

        async def make(service: str, *, rollback: bool = True, **settings: object) -> InProcessService:
            # Feeds are polled by the tests themselves (FeedConsumer.poll_once), not in the background.
            overrides: dict[str, object] = {"database_url": database_url, "feeds_enabled": False}
            if service == "gateway":
                overrides |= {"signing_keys_dir": signing_keys_dir, **FAST_HASHING}
            if service == "roster":
                # Likewise the roster's status transitions (lifecycle.publish_due_transitions).
                overrides["lifecycle_enabled"] = False
            config = settings_for(service).model_copy(update=overrides | settings)
            module = importlib.import_module(f"services.{service}.app")
            app: FastAPI = module.create_app(config)
            if service != "gateway":
                # The gateway's JWKS, without a gateway: the same keys, served in-process.
                keys = SigningKeys(signing_keys_dir)

                async def jwks() -> dict[str, Any]:
                    return keys.jwks()

                app.state.token_verifier = TokenVerifier(jwks)
            await stack.enter_async_context(app.router.lifespan_context(app))
            if rollback:
                conn = await stack.enter_async_context(app.state.engine.connect())
                outer = await conn.begin()
                stack.push_async_callback(outer.rollback)
                app.state.sessionmaker = async_sessionmaker(
                    bind=conn,
                    class_=AsyncSession,
                    expire_on_commit=False,
                    join_transaction_mode="create_savepoint",
                )
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test")
            await stack.enter_async_context(client)
            return InProcessService(app, client)

        yield make
