"""Regions import (issue #13): a county's townships and communities in one upload, each row checked as
the API checks one region (GB/T 2260 nesting, S1 kinds, S3 extra posts), scope, duplicates, loaded with
the API's region.created events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.roster import imports
from services.roster.regions_format import COLUMNS
from services.roster.tests.conftest import COUNTY, NEXT_COUNTY, Roster
from shared.spreadsheets import csv_bytes

KEYS = [c.key for c in COLUMNS]


def region(code: str, name: str, parent: str, **cells: Any) -> list[Any]:
    row = {"code": code, "name": name, "parent_code": parent} | cells
    return [row.get(k) for k in KEYS]


async def upload(
    roster: Roster, rows: list[list[Any]], headers: dict[str, str], mode: str = "all_or_nothing"
) -> dict[str, Any]:
    response = await roster.client.post(
        "/v1/imports",
        params={"kind": "regions", "mode": mode},
        files={"file": ("regions.csv", csv_bytes(COLUMNS, rows))},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    await imports.drain()
    job: dict[str, Any] = (await roster.client.get(response.headers["Location"], headers=headers)).json()
    return job


async def test_a_township_and_its_communities_load_with_their_events(roster: Roster) -> None:
    rows = [
        region("330302002001", "新社区", "330302002000", kind="城市社区", households=2100),  # child before parent
        region("330302002000", "新街道", COUNTY),
        region(
            "330302002002",
            "老城社区",
            "330302002000",
            kind="老旧社区",
            households=3000,
            extra_staff=1,
            extra_staff_approval="鹿民〔2026〕1号",
        ),
    ]
    job = await upload(roster, rows, roster.county_admin)
    assert job["status"] == "succeeded", job
    assert job["rows_loaded"] == 3
    community = await roster.client.get("/v1/regions/330302002002", headers=roster.county_admin)
    assert community.status_code == 200
    assert (community.json()["kind"], community.json()["households"]) == ("old_town", 3000)
    async with roster.service.app.state.sessionmaker() as session:
        subjects = set(await session.scalars(text("SELECT subject FROM roster.events WHERE type = 'region.created'")))
    assert {"region/330302002000", "region/330302002001", "region/330302002002"} <= subjects


async def test_bad_regions_are_each_reported_and_nothing_is_written(roster: Roster) -> None:
    rows = [
        region("330302003000", "街道", COUNTY),  # good
        region("330303001001", "错位社区", "330302003000", kind="城市社区"),  # does not extend its parent's code
        region("330302003002", "无类型社区", "330302003000"),  # S1: a community needs its kind
        region("330302003003", "增配社区", "330302003000", kind="城市社区", extra_staff=2),  # S3
        region("330302003000", "重复街道", COUNTY),  # twice in the file
        region("330302001001", "已有社区", "330302001000", kind="城市社区"),  # already in the tree
        region("330304009000", "邻县街道", NEXT_COUNTY),  # 瓯海区: not this county admin's
        region("330302004001", "孤儿社区", "330302004000", kind="城市社区"),  # no such parent
    ]
    job = await upload(roster, rows, roster.county_admin)
    assert job["status"] == "rejected"
    found = {(e["row"], e["header"], e["rule"]) for e in job["errors"]}
    assert found == {
        (4, "区划代码", None),
        (5, "社区类型", "S1"),
        (6, "增配名额", "S3"),
        (7, "区划代码", None),
        (8, "区划代码", None),
        (9, "区划代码", None),
        (10, "上级代码", None),
    }, job["errors"]
    missing = await roster.client.get("/v1/regions/330302003000", headers=roster.county_admin)
    assert missing.status_code == 404

    partial = await upload(roster, rows, roster.county_admin, mode="good_rows")
    assert partial["rows_loaded"] == 1
    assert (await roster.client.get("/v1/regions/330302003000", headers=roster.county_admin)).status_code == 200


async def test_template_of_regions(roster: Roster) -> None:
    response = await roster.client.get("/v1/imports/templates/regions.xlsx", headers=roster.county_admin)
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
