"""Status values are enums in the code and checked by the database too: each status column's CHECK
constraint admits exactly the values of the enum the code uses."""

import re

import asyncpg
import pytest

from services.compensation.schemas import PayrollRunStatus
from services.roster.schemas import WorkerStatus

EXPECTED = {
    ("roster", "workers_status_check"): {s.value for s in WorkerStatus},
    ("compensation", "payroll_runs_status_check"): {s.value for s in PayrollRunStatus},
    ("compensation", "step_up_orders_status_check"): {"pending", "sending", "confirmed", "rejected"},
    ("evaluation", "cycles_status_check"): {"open", "closed"},
    ("evaluation", "work_cases_status_check"): {"submitted", "approved", "returned"},
}


@pytest.mark.parametrize(("schema", "constraint"), sorted(EXPECTED))
async def test_the_database_admits_exactly_the_enums_statuses(database_url: str, schema: str, constraint: str) -> None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        definition = await conn.fetchval(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = $1 AND c.conname = $2",
            schema,
            constraint,
        )
    finally:
        await conn.close()
    assert definition is not None, f"{schema}.{constraint} is missing"
    assert set(re.findall(r"'([a-z_]+)'", definition)) == EXPECTED[(schema, constraint)]
