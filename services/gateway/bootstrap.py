"""First accounts of the embedded default: ``python -m services.gateway.bootstrap <data folder>``.

Creates, once, the ``admin`` user as ``province_admin`` (with the personal-data right) of the configured
province (``SHEGONG_GATEWAY_PROVINCE_CODE``, default 330000 浙江省). Its password comes from
``SHEGONG_BOOTSTRAP_ADMIN_PASSWORD``; when that is unset, a random one is printed once and written to
``<data>/admin-password``. It also creates each service's own API client (role ``service``) for
service-to-service calls, its secret in ``<data>/clients/<service>.secret``, or, when
``SHEGONG_BOOTSTRAP_<SERVICE>_CLIENT_SECRET`` is set, with that secret (written nowhere: the Kubernetes
bootstrap Job of deploy/k8s gives it the Secret the services read theirs from; a client whose secret
differs from the given one gets the given one). Run by ``make up`` and by that Job: no account and no
password exist anywhere else until an administrator makes them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.audit import AuditAction, record
from services.gateway.models import PERSONAL_DATA, ApiClient, Grant, User
from services.gateway.passwords import SecretHasher
from services.gateway.settings import Settings
from shared.auth import Role
from shared.db import make_engine, make_sessionmaker

SERVICE_CLIENTS = ("roster", "compensation", "evaluation")
BOOTSTRAP = "bootstrap"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text + "\n")


async def ensure_admin(session: AsyncSession, hasher: SecretHasher, province: str, data: Path) -> str | None:
    """Create ``admin`` unless it exists; returns the password when one was generated."""
    if await session.scalar(select(User.id).where(User.username == "admin")):
        return None
    given = os.environ.get("SHEGONG_BOOTSTRAP_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(18)
    admin = User(username="admin", name="系统管理员", password_hash=hasher.hash(password), created_by=BOOTSTRAP)
    session.add(admin)
    await session.flush()
    for right in (Role.province_admin.value, PERSONAL_DATA):
        session.add(Grant(user_id=admin.id, right=right, region=province, granted_by=BOOTSTRAP))
        record(
            session,
            AuditAction.role_granted,
            actor=BOOTSTRAP,
            subject=f"user:{admin.id}",
            region=province,
            details={"right": right},
        )
    if given:
        return None
    _write_private(data / "admin-password", password)
    return password


def given_client_secret(service: str) -> str | None:
    """The secret the operator gives the service's client (``SHEGONG_BOOTSTRAP_<SERVICE>_CLIENT_SECRET``)."""
    return os.environ.get(f"SHEGONG_BOOTSTRAP_{service.upper()}_CLIENT_SECRET") or None


async def ensure_service_client(
    session: AsyncSession, hasher: SecretHasher, service: str, province: str, data: Path
) -> None:
    """The service's client exists with the given secret, or its secret is in ``<data>/clients/<service>.secret``."""
    secret_file = data / "clients" / f"{service}.secret"
    client = await session.scalar(select(ApiClient).where(ApiClient.client_id == service))
    given = given_client_secret(service)
    if client is not None and (hasher.verify(client.secret_hash, given) if given is not None else secret_file.exists()):
        return
    secret = given or secrets.token_urlsafe(32)
    if client is None:
        client = ApiClient(
            client_id=service,
            name=f"shegong {service}",
            department="shegong",
            secret_hash=hasher.hash(secret),
            created_by=BOOTSTRAP,
        )
        session.add(client)
        await session.flush()
        session.add(Grant(client_pk=client.id, right=Role.service.value, region=province, granted_by=BOOTSTRAP))
        record(session, AuditAction.client_created, actor=BOOTSTRAP, subject=f"client:{service}")
    else:
        client.secret_hash = hasher.hash(secret)  # the file was lost, or the operator gave another secret
        record(session, AuditAction.client_secret_rotated, actor=BOOTSTRAP, subject=f"client:{service}")
    if given is None:
        _write_private(secret_file, secret)


async def bootstrap(data: Path, settings: Settings) -> str | None:
    engine = make_engine(settings)
    hasher = SecretHasher(settings.password_hash_time_cost, settings.password_hash_memory_kib)
    try:
        async with make_sessionmaker(engine)() as session:
            password = await ensure_admin(session, hasher, settings.province_code, data)
            for service in SERVICE_CLIENTS:
                await ensure_service_client(session, hasher, service, settings.province_code, data)
            await session.commit()
    finally:
        await engine.dispose()
    return password


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.gateway.bootstrap <data folder>", file=sys.stderr)
        return 2
    data = Path(argv[0])
    password = asyncio.run(bootstrap(data, Settings()))
    if password:
        print(f"created user admin (province_admin); password: {password}  (also in {data / 'admin-password'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
