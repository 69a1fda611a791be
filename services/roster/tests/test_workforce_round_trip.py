"""Export → import into an empty database → export gives the same workbook (issue #13): the export is
exactly the import format, and an import records what the export read."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from openpyxl import load_workbook

from conftest import Mint, ServiceFactory
from services.roster.tests.conftest import (
    CITY,
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY,
    PROVINCE,
    TOWNSHIP,
    Roster,
)
from services.roster.tests.test_workforce_import import person, upload
from services.roster.workforce_format import COLUMNS
from shared.business_time import business_today
from shared.migrations import upgrade
from shared.spreadsheets import csv_bytes


async def tree(roster: Roster) -> None:
    """The part of the fixture's tree the rows use, and this year's quota."""
    await roster.region(PROVINCE, "浙江省", None)
    await roster.region(CITY, "温州市", PROVINCE)
    await roster.region(COUNTY, "鹿城区", CITY)
    await roster.region(TOWNSHIP, "五马街道", COUNTY)
    await roster.region(COMMUNITY_A, "社区A", TOWNSHIP, kind="urban", households=2000)
    await roster.region(COMMUNITY_B, "社区B", TOWNSHIP, kind="urban", households=2500)
    quota = await roster.client.put(
        f"/v1/quotas/{COUNTY}/{business_today().year}", headers=roster.province_admin, json={"headcount": 30}
    )
    assert quota.status_code == 200, quota.text


def sheet_values(content: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))


async def test_export_import_into_an_empty_database_export_is_equal(
    empty_database: str, roster: Roster, service_app: ServiceFactory, mint: Mint
) -> None:
    # empty_database first: set up before the apps, so dropped only after they have stopped
    recent = (business_today() - timedelta(days=20)).isoformat()
    rows = [
        person(1, post="正职", grade=11, duties="党建、综合治理", phone="13812345678", education="本科"),
        person(2, post="副职", grade=6, community_code=COMMUNITY_B, political_status="中共党员", generalist="是"),
        person(3, hire_date=recent, post_start_date=recent, contract_start=recent, lives_in_community="是"),
        person(4, hire_date="2018-04-02", left_date="2025-02-28", post_start_date="2018-04-02", contract_start=""),
        person(
            5, certificate_level="助理社会工作师", certificate_date="2020-09-01", post="", grade="", post_start_date=""
        ),
    ]
    _, job = await upload(roster, csv_bytes(COLUMNS, rows))
    assert job["status"] == "succeeded", job
    full = roster.as_(("county_admin", COUNTY), pd=(COUNTY,))
    first_csv = (await roster.client.get("/v1/workforce.csv", headers=full)).content
    first_xlsx = (await roster.client.get("/v1/workforce.xlsx", headers=full)).content

    await asyncio.to_thread(upgrade, "roster", "head", empty_database)
    empty = Roster(await service_app("roster", database_url=empty_database), mint)
    await tree(empty)
    _, again = await upload(empty, first_csv, name="exported.csv")
    assert again["status"] == "succeeded", again
    assert again["rows_loaded"] == 5
    second_csv = (await empty.client.get("/v1/workforce.csv", headers=full)).content
    second_xlsx = (await empty.client.get("/v1/workforce.xlsx", headers=full)).content

    assert second_csv == first_csv
    assert sheet_values(second_xlsx) == sheet_values(first_xlsx)
    assert len(sheet_values(first_xlsx)) == 2 + 5
