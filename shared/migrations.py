"""Each service's Alembic environment, written once.

Every service has ``services/<name>/migrations/`` with an ``env.py`` of two lines that calls
:func:`run_env` with its metadata. Each migrates only its own PostgreSQL schema and keeps its own
version table there (``<schema>.alembic_version``), so four services can share one database locally
and each can have its own server in production.

CLI: ``python -m shared.migrations upgrade all`` (or a service name; ``downgrade <name> base``).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.settings import ServiceSettings

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
SERVICE_NAMES = ("gateway", "roster", "compensation", "evaluation")
VERSION_TABLE = "alembic_version"
# A migration waits at most this long for a lock, instead of queueing behind live traffic.
LOCK_TIMEOUT = "5s"


def settings_for(service: str) -> ServiceSettings:
    """The settings of a service, read from its own environment prefix."""
    module = importlib.import_module(f"services.{service}.settings")
    settings: ServiceSettings = module.Settings()
    return settings


def alembic_config(service: str, database_url: str | None = None) -> Config:
    """The Alembic config of one service; the URL defaults to that service's own setting."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url or settings_for(service).database_url)
    cfg.attributes["service"] = service
    return cfg


def head_revision(service: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused")).get_current_head()


def known_revisions(service: str) -> frozenset[str]:
    """Every revision of the service's migrations that this code has (a newer release's are not among them)."""
    scripts = ScriptDirectory.from_config(alembic_config(service, "postgresql+asyncpg://unused"))
    return frozenset(script.revision for script in scripts.walk_revisions())


def include_own_schema(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    return include_name


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py``: online, async (asyncpg), own schema and version table."""
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    cfg = context.config

    def configure(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_own_schema(schema),
            compare_type=True,
            compare_server_default=True,
        )

    def do_run(connection: Connection) -> None:
        configure(connection)
        with context.begin_transaction():
            connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            context.run_migrations()

    if context.is_offline_mode():
        context.configure(
            url=cfg.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            version_table=VERSION_TABLE,
            version_table_schema=schema,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    async def run_async() -> None:
        engine = create_async_engine(cfg.get_main_option("sqlalchemy.url") or "", poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await connection.commit()
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run_async())


def upgrade(service: str, revision: str = "head", database_url: str | None = None) -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, revision: str = "base", database_url: str | None = None) -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def main(argv: list[str]) -> int:
    usage = "usage: python -m shared.migrations (upgrade|downgrade) (all|gateway|roster|compensation|evaluation) [rev]"
    if len(argv) < 2 or argv[0] not in {"upgrade", "downgrade"}:
        print(usage, file=sys.stderr)
        return 2
    action, target = argv[0], argv[1]
    services = SERVICE_NAMES if target == "all" else (target,)
    if any(s not in SERVICE_NAMES for s in services):
        print(usage, file=sys.stderr)
        return 2
    for service in services:
        if action == "upgrade":
            upgrade(service, argv[2] if len(argv) > 2 else "head")
        else:
            downgrade(service, argv[2] if len(argv) > 2 else "base")
        print(f"{service}: {action} done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
