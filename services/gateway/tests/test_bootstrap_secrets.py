"""The bootstrap (``python -m services.gateway.bootstrap``) as the Kubernetes bootstrap Job runs it: the admin's
password and the services' client secrets come from the environment (a Secret), none is written to disk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import FAST_HASHING
from services.gateway.bootstrap import SERVICE_CLIENTS, bootstrap
from services.gateway.models import ApiClient, User
from services.gateway.passwords import SecretHasher
from services.gateway.settings import Settings
from shared.db import make_engine, make_sessionmaker
from shared.migrations import upgrade


async def stored(settings: Settings) -> tuple[dict[str, str], str, int]:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = (await session.execute(select(ApiClient.client_id, ApiClient.secret_hash))).all()
            clients: dict[str, str] = {row.client_id: row.secret_hash for row in rows}
            admin = await session.scalar(select(User.password_hash).where(User.username == "admin"))
            users = await session.scalar(select(func.count()).select_from(User))
    finally:
        await engine.dispose()
    assert admin is not None
    assert users is not None
    return clients, admin, users


async def test_secrets_from_the_environment_and_written_nowhere(
    empty_database: str, signing_keys_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(upgrade, "gateway", "head", empty_database)
    settings = Settings().model_copy(
        update={"database_url": empty_database, "signing_keys_dir": signing_keys_dir, **FAST_HASHING}
    )
    hasher = SecretHasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    monkeypatch.setenv("SHEGONG_BOOTSTRAP_ADMIN_PASSWORD", "admin-from-the-secret")
    for service in SERVICE_CLIENTS:
        monkeypatch.setenv(f"SHEGONG_BOOTSTRAP_{service.upper()}_CLIENT_SECRET", f"{service}-first")

    assert await bootstrap(tmp_path, settings) is None  # no password generated, none printed
    clients, admin, users = await stored(settings)
    assert set(clients) == set(SERVICE_CLIENTS)
    assert users == 1
    assert hasher.verify(admin, "admin-from-the-secret")
    assert all(hasher.verify(clients[s], f"{s}-first") for s in SERVICE_CLIENTS)
    assert not any(os.scandir(tmp_path))  # nothing on disk

    # The Job again (a second release), one client's secret changed in the Secret: that one is rotated.
    monkeypatch.setenv("SHEGONG_BOOTSTRAP_ROSTER_CLIENT_SECRET", "roster-second")
    await bootstrap(tmp_path, settings)
    again, admin_again, users_again = await stored(settings)
    assert hasher.verify(again["roster"], "roster-second")
    assert not hasher.verify(again["roster"], "roster-first")
    assert again["compensation"] == clients["compensation"]
    assert again["evaluation"] == clients["evaluation"]
    assert admin_again == admin
    assert users_again == 1
    assert not any(os.scandir(tmp_path))
