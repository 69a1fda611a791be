"""Each service's Alembic environment: up to head, down to base, up again; models and migrations agree."""

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import SERVICE_NAMES, VERSION_TABLE, downgrade, head_revision, include_own_schema, upgrade


def service_metadata(service: str) -> MetaData:
    import importlib

    metadata: MetaData = importlib.import_module(f"services.{service}.models").Base.metadata
    return metadata


async def tables_and_version(url: str, schema: str) -> tuple[set[str], str | None]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.scalars(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
        )
        tables = set(names)
        version = None
        if VERSION_TABLE in tables:
            version = await conn.scalar(text(f'SELECT version_num FROM "{schema}".{VERSION_TABLE}'))
    await engine.dispose()
    return tables, version


async def autogenerate_diff(url: str, metadata: MetaData) -> list[Any]:
    schema = metadata.schema
    assert schema

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": include_own_schema(schema),
                "version_table": VERSION_TABLE,
                "version_table_schema": schema,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(context, metadata))

    engine = create_async_engine(url)
    async with engine.connect() as conn:
        result = await conn.run_sync(diff)
    await engine.dispose()
    return result


@pytest.mark.parametrize("service", SERVICE_NAMES)
async def test_upgrade_downgrade_upgrade_and_no_model_drift(service: str, empty_database: str) -> None:
    schema = service
    metadata = service_metadata(service)
    expected_tables = {t.name for t in metadata.sorted_tables} | {VERSION_TABLE}

    await _in_thread(upgrade, service, "head", empty_database)
    tables, version = await tables_and_version(empty_database, schema)
    assert tables == expected_tables
    assert version == head_revision(service)
    assert await autogenerate_diff(empty_database, metadata) == []

    await _in_thread(downgrade, service, "base", empty_database)
    tables, version = await tables_and_version(empty_database, schema)
    assert tables == {VERSION_TABLE}  # only the (empty) version table is left
    assert version is None

    await _in_thread(upgrade, service, "head", empty_database)
    tables, version = await tables_and_version(empty_database, schema)
    assert tables == expected_tables
    assert version == head_revision(service)


async def test_services_never_share_a_schema_or_table() -> None:
    schemas = {service: service_metadata(service).schema for service in SERVICE_NAMES}
    assert schemas == {s: s for s in SERVICE_NAMES}
    for service in SERVICE_NAMES:
        for table in service_metadata(service).sorted_tables:
            assert table.schema == service


async def _in_thread(fn: Any, *args: Any) -> None:
    # Alembic's env runs its own event loop (asyncio.run): give it a thread without one.
    import asyncio

    await asyncio.to_thread(fn, *args)


async def test_the_paid_once_migration_refuses_a_database_that_paid_a_month_twice(empty_database: str) -> None:
    """compensation 0007 adds the unique (worker, month) payslip index; a database that already paid a
    worker-month twice stops the upgrade with the worker, the month and the runs, and changes nothing."""
    await _in_thread(upgrade, "compensation", "compensation_0006", empty_database)
    engine = create_async_engine(empty_database)
    async with engine.begin() as conn:
        for run, region in (
            ("11111111-1111-1111-1111-111111111111", "330302"),  # a county run and a township run of March
            ("22222222-2222-2222-2222-222222222222", "330302001000"),
        ):
            await conn.execute(
                text(
                    "INSERT INTO compensation.payroll_runs (id, region_code, month, status, created_by)"
                    " VALUES (CAST(:run AS uuid), :region, '2026-03-01', 'approved', 'test')"
                ),
                {"run": run, "region": region},
            )
            await conn.execute(
                text(
                    "INSERT INTO compensation.payslips (run_id, worker_id, base, certificate_allowance, pension,"
                    " medical, unemployment, housing_fund, income_tax, employer_pension, employer_medical,"
                    " employer_unemployment, employer_injury, employer_housing_fund)"
                    " VALUES (CAST(:run AS uuid), '33333333-3333-3333-3333-333333333333', 5075, 0,0,0,0,0,0,0,0,0,0,0)"
                ),
                {"run": run},
            )
    await engine.dispose()
    with pytest.raises(RuntimeError, match="33333333-3333-3333-3333-333333333333 2026-03"):
        await _in_thread(upgrade, "compensation", "head", empty_database)
    _, version = await tables_and_version(empty_database, "compensation")
    assert version == "compensation_0006"
