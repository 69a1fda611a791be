"""Regions import (issue #13): a county's townships and communities in one upload, checked as the API
checks one region (``regions_format.read_row``), then here: a code not yet in the tree nor twice in the
file, its parent in the tree or in the file (and good), inside the job's region and the caller's
administrative scope (county level and above change the tree). Loaded parents first with COPY, with
the API's ``region.created`` events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.models import Region
from services.roster.regions_format import RegionRow
from shared.auth import Principal
from shared.db import among
from shared.import_rows import repeated
from shared.regions import contains, normalise
from shared.request_context import current_request_id
from shared.scoping import ADMIN_WRITE_ROLES, sees_region
from shared.spreadsheets import CellProblem, Checked

DEPTH = {"province": 0, "city": 1, "county": 2, "township": 3, "community": 4}


async def check_rows(
    session: AsyncSession, principal: Principal, region: str, rows: Sequence[RegionRow], secret: bytes, today: date
) -> Checked:
    del secret, today
    checked = Checked()
    codes = [r.code for r in rows] + [r.parent_code for r in rows if r.parent_code]
    existing = set(await session.scalars(select(Region.code).where(among(Region.code, codes)))) if codes else set()
    first: dict[str, int] = {}
    accepted: set[str] = set()
    for row in sorted(rows, key=lambda r: (DEPTH[r.level], r.line)):
        if row.code in first:
            problem = repeated("code", row.code, first[row.code], ("区划代码", "region"))
        elif row.code in existing:
            problem = CellProblem("code", row.code, f"区划已存在：{row.code}", f"region exists: {row.code}")
        elif not contains(region, row.code) or not sees_region(principal, row.code, ADMIN_WRITE_ROLES):
            problem = CellProblem(
                "code", row.code, "不在您可维护的区划范围内", "outside the regions you may change (county and above)"
            )
        elif row.parent_code is not None and row.parent_code not in existing and row.parent_code not in accepted:
            problem = CellProblem(
                "parent_code",
                row.parent_code,
                f"上级区划不存在或本文件中有误：{row.parent_code}",
                f"no such parent, or its row is bad: {row.parent_code}",
            )
        else:
            first[row.code] = row.line
            accepted.add(row.code)
            checked.good.append(row)
            continue
        first.setdefault(row.code, row.line)
        checked.refuse(row.line, problem)
    return checked


async def load(session: AsyncSession, good: Sequence[RegionRow], today: date) -> int:
    """COPY the checked regions, parents first, and their ``region.created`` events."""
    del today
    if not good:
        return 0
    ordered = sorted(good, key=lambda r: (DEPTH[r.level], r.code))
    request_id = current_request_id()
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    copy = raw.driver_connection
    assert copy is not None
    await copy.copy_records_to_table(
        "regions",
        schema_name="roster",
        columns=(
            "code",
            "path",
            "parent_code",
            "level",
            "name",
            "kind",
            "households",
            "population",
            "extra_staff",
            "extra_staff_approval",
        ),
        records=[
            (
                r.code,
                normalise(r.code),
                r.parent_code,
                r.level,
                r.name,
                r.kind,
                r.households,
                r.population,
                r.extra_staff,
                r.extra_staff_approval,
            )
            for r in ordered
        ],
    )
    await copy.copy_records_to_table(
        "events",
        schema_name="roster",
        columns=("type", "subject", "data", "request_id"),
        records=[("region.created", f"region/{r.code}", json.dumps(r.event()), request_id) for r in ordered],
    )
    return len(ordered)
