"""Lists other than the workers' export through the same machinery: a keyset-paged list is stitched batch
by batch into exactly its pages' items; a whole list exports exactly its JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from services.roster.schemas import RegionOut
from services.roster.tests.conftest import PROVINCE, TOWNSHIP, Roster
from shared import exports
from shared.exports import columns_of


def cells(items: list[dict[str, Any]], model: Any) -> list[list[str]]:
    columns = columns_of(model)
    out = []
    for item in items:
        row = []
        for column in columns:
            value = column.value(item)
            row.append("" if value is None else "true" if value is True else "false" if value is False else str(value))
        out.append(row)
    return out


async def test_a_paged_list_exports_every_page(roster: Roster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "EXPORT_BATCH", 2)  # the two communities and more: several batches
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await roster.client.get(f"/v1/regions/{PROVINCE}/descendants", headers=roster.province_admin, params=params)
        ).json()
        pages.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(pages) > 4
    response = await roster.client.get(
        f"/v1/regions/{PROVINCE}/descendants", headers=roster.province_admin, params={"format": "csv"}
    )
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == [c.header for c in columns_of(RegionOut)]
    assert rows == cells(pages, RegionOut)
    children = await roster.client.get(
        f"/v1/regions/{TOWNSHIP}/children", headers=roster.province_admin, params={"format": "ndjson"}
    )
    expected = (await roster.client.get(f"/v1/regions/{TOWNSHIP}/children", headers=roster.province_admin)).json()
    assert [json.loads(line) for line in children.text.splitlines()] == expected["items"]
    ancestors = await roster.client.get(
        f"/v1/regions/{TOWNSHIP}/ancestors", headers={**roster.province_admin, "Accept": "application/x-ndjson"}
    )
    whole = (await roster.client.get(f"/v1/regions/{TOWNSHIP}/ancestors", headers=roster.province_admin)).json()
    assert [json.loads(line) for line in ancestors.text.splitlines()] == whole
    assert [r["code"] for r in whole] == ["330302", "330300", PROVINCE]  # county, city, province
