"""The payroll statement's plan: ``EXPLAIN (ANALYZE, BUFFERS)`` of the calculation SQL on the benchmark's
seed (rolled back), for docs/benchmarks.md. Not a benchmark (no ``NAME``): run it by hand.

    .venv/bin/python -m benchmarks._explain_payroll [workers] [configurations: "" "SET LOCAL jit = off" …]

Each configuration (SET statements separated by ";", "" for the statement as shipped) runs twice,
interleaved, and prints its execution time; the first configuration's full plan is printed once.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import date

from sqlalchemy import text

from benchmarks.payroll import BULK, SEED
from deploy.local.postgres import scratch_database
from services.compensation.app import create_app
from services.compensation.domain.policy import preset_for
from services.compensation.models import PayrollRun
from services.compensation.payroll import CALCULATE_SQL, sql_parameters
from services.compensation.settings import Settings


async def explain(url: str, workers: int, settings: list[str]) -> None:
    app = create_app(Settings(database_url=url, access_log=False, feeds_enabled=False))
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as conn:
            for statement in SEED.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"workers": workers} if ":workers" in statement else {})
        async with app.state.engine.connect() as conn:
            counties = (
                await conn.scalars(text("SELECT DISTINCT left(community_path, 6) FROM compensation.workers"))
            ).all()
        run = PayrollRun(id=uuid.uuid4(), region_code="330000", month=date(2026, 6, 1))
        params = sql_parameters(run, {c: preset_for(c) for c in counties})
        for round_ in range(2):  # each configuration twice, interleaved: the machine is shared and noisy
            for setting in settings or [""]:
                async with app.state.engine.connect() as conn:
                    trans = await conn.begin()
                    for statement in filter(None, setting.split(";")):
                        await conn.execute(text(statement))
                    plan = [
                        row[0]
                        for row in await conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + CALCULATE_SQL.text), params)
                    ]
                    await trans.rollback()
                if round_ == 0 and setting == (settings or [""])[0]:
                    print("\n".join(plan))
                print(
                    f"== [{setting or 'as shipped'}] "
                    + " | ".join(line.strip() for line in plan if line.startswith(("Execution", "  Timing")))
                )


def main() -> int:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with scratch_database(["compensation"], BULK) as (url, _scratch):
        asyncio.run(explain(url, workers, sys.argv[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
