"""Exports of the workers list (CSV in UTF-8 with BOM or GB18030, .xlsx, NDJSON) carry exactly the JSON
list's rows and masking, scoped and filtered the same; an unmasked export needs the personal-data right
and is audited batch by batch before the rows leave; the bulk personal-data read names every worker in
one audit record."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text

from services.roster.api import workers as workers_api
from services.roster.schemas import WorkerOut
from services.roster.tests.conftest import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY,
    NEXT_COMMUNITY,
    NEXT_COUNTY,
    Roster,
    id_number,
)
from shared.exports import columns_of

COLUMNS = columns_of(WorkerOut)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAMES = ["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑𠀀", "冯·阿依古丽"]


async def hire_ten(roster: Roster) -> list[dict[str, Any]]:
    hired = []
    for n, name in enumerate(NAMES):
        community = NEXT_COMMUNITY if n == 9 else (COMMUNITY_A if n % 2 else COMMUNITY_B)
        hired.append(await roster.hire(70 + n, community=community, name=name, phone=f"1390000{n:04d}"))
    return hired


async def json_list(roster: Roster, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 3, **params} | ({"cursor": cursor} if cursor else {})
        page = (await roster.client.get("/v1/workers", headers=headers, params=query)).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def as_cells(items: list[dict[str, Any]]) -> list[list[str]]:
    """The JSON items as the CSV's cells (the documented rendering)."""
    rows = []
    for item in items:
        row = []
        for column in COLUMNS:
            value = column.value(item)
            row.append("" if value is None else "true" if value is True else "false" if value is False else str(value))
        rows.append(row)
    return rows


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several keyset batches even for ten workers: the export must stitch them without loss or repeat.
    monkeypatch.setattr(workers_api, "EXPORT_BATCH", 4)


async def test_csv_xlsx_and_ndjson_equal_the_json_list(roster: Roster) -> None:
    await hire_ten(roster)
    county = roster.county_admin
    expected = await json_list(roster, county)
    assert len(expected) == 9  # 鹿城区 only: the tenth is in 瓯海区
    assert all("*" in w["id_number"] for w in expected)

    csv_response = await roster.client.get("/v1/workers", headers=county, params={"format": "csv"})
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_response.headers["content-disposition"] == 'attachment; filename="workers.csv"'
    assert csv_response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens it as UTF-8
    header, *rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert header == [c.header for c in COLUMNS]
    assert "名称/姓名 name" in header
    assert "身份证号 id_number" in header
    assert rows == as_cells(expected)

    ndjson = await roster.client.get("/v1/workers", headers={**county, "Accept": "application/x-ndjson"})
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in ndjson.text.splitlines()] == expected

    xlsx = await roster.client.get("/v1/workers", headers={**county, "Accept": XLSX})
    assert xlsx.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert sheet is not None
    cells = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == header
    typed = [["true" if v is True else "false" if v is False else str(v) for v in row] for row in cells[1:]]
    assert typed == rows


async def test_exports_keep_the_lists_scope_and_filters(roster: Roster) -> None:
    hired = await hire_ten(roster)
    next_county = roster.as_(("county_admin", NEXT_COUNTY))
    only_next = await roster.client.get("/v1/workers", headers=next_county, params={"format": "ndjson"})
    assert [json.loads(line)["id"] for line in only_next.text.splitlines()] == [hired[9]["id"]]
    in_a = await roster.client.get(
        "/v1/workers", headers=roster.county_admin, params={"format": "ndjson", "region": COMMUNITY_A}
    )
    expected = await json_list(roster, roster.county_admin, region=COMMUNITY_A)
    assert [json.loads(line) for line in in_a.text.splitlines()] == expected
    assert {w["community_code"] for w in expected} == {COMMUNITY_A}
    # A worker's own token exports their own record only.
    me = roster.as_(("worker", COMMUNITY_A), worker_id=hired[1]["id"])
    mine = await roster.client.get("/v1/workers", headers=me, params={"format": "ndjson"})
    assert [json.loads(line)["id"] for line in mine.text.splitlines()] == [hired[1]["id"]]


@pytest.mark.parametrize("ask", ["query", "accept"])
async def test_gb18030_round_trips_chinese_names(roster: Roster, ask: str) -> None:
    await hire_ten(roster)
    if ask == "query":
        response = await roster.client.get(
            "/v1/workers", headers=roster.county_admin, params={"format": "csv", "charset": "gb18030"}
        )
    else:
        response = await roster.client.get(
            "/v1/workers", headers={**roster.county_admin, "Accept": "text/csv; charset=gb18030"}
        )
    assert response.headers["content-type"] == "text/csv; charset=gb18030"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("gb18030"))))
    names = {row[header.index("名称/姓名 name")] for row in rows}
    assert names == set(NAMES[:9])  # 𠀀 (outside the BMP) and · included
    assert "郑𠀀".encode("gb18030") in response.content


async def test_an_unmasked_export_needs_the_right_and_audits_every_batch_first(roster: Roster) -> None:
    hired = await hire_ten(roster)
    refused = await roster.client.get(
        "/v1/workers", headers=roster.county_admin, params={"format": "csv", "unmasked": "true"}
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"

    # The right covers community A only: A's workers unmasked, B's stay masked.
    entitled = roster.as_(("county_admin", COUNTY), pd=(COMMUNITY_A,))
    masked = await roster.client.get("/v1/workers", headers=entitled, params={"format": "ndjson"})
    assert all("*" in json.loads(line)["id_number"] for line in masked.text.splitlines())  # not asked: masked
    response = await roster.client.get(
        "/v1/workers",
        headers={**entitled, "X-Request-ID": "export-1"},
        params={"format": "ndjson", "unmasked": "true"},
    )
    lines = [json.loads(line) for line in response.text.splitlines()]
    by_id = {w["id"]: w for w in lines}
    for n, worker in enumerate(hired[:9]):
        shown = by_id[worker["id"]]
        if worker["community_code"] == COMMUNITY_A:
            assert (shown["id_number"], shown["phone"]) == (id_number(70 + n), f"1390000{n:04d}")
        else:
            assert "*" in shown["id_number"]
            assert "*" in shown["phone"]
    async with roster.service.app.state.sessionmaker() as session:
        audit = (
            await session.execute(
                text("SELECT worker_ids, region, request_id FROM roster.personal_data_reads ORDER BY id")
            )
        ).all()
    # One record per batch of four that holds a worker of A (the workers come in id order, random uuids: A's
    # four may share one batch or spread over three).
    a_ids = {w["id"] for w in hired if w["community_code"] == COMMUNITY_A}
    batches = [lines[i : i + 4] for i in range(0, len(lines), 4)]
    assert len(audit) == sum(any(w["id"] in a_ids for w in batch) for batch in batches)
    assert all(len(r.worker_ids) <= 4 for r in audit)
    assert {r.request_id for r in audit} == {"export-1"}
    assert {r.region for r in audit} == {COMMUNITY_A}
    named = [str(w) for r in audit for w in r.worker_ids]
    assert sorted(named) == sorted(w["id"] for w in hired if w["community_code"] == COMMUNITY_A)


async def test_bulk_personal_data_one_audit_record_naming_every_worker(roster: Roster) -> None:
    hired = await hire_ten(roster)
    ids = [w["id"] for w in hired[:9]]
    entitled = roster.as_(("county_admin", COUNTY), pd=(COUNTY,))
    response = await roster.client.post(
        "/v1/workers:personal-data", headers={**entitled, "X-Request-ID": "bulk-1"}, json={"worker_ids": ids}
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == [
        {"worker_id": w["id"], "id_number": id_number(70 + n), "phone": f"1390000{n:04d}"}
        for n, w in enumerate(hired[:9])
    ]
    reads = await roster.client.get(
        "/v1/personal-data-reads",
        headers=roster.as_(("auditor", COUNTY)),
        params={"worker_id": ids[3]},
    )
    assert reads.status_code == 200
    (record,) = reads.json()["items"]  # one record, found by any worker it names
    assert record["worker_ids"] == ids
    assert record["worker_id"] is None
    assert record["request_id"] == "bulk-1"
    assert record["region"] == "330302001000"  # the township holding A and B

    # Another county's worker (out of scope): refused as if it did not exist, pointing at it; nothing read.
    out_of_scope = await roster.client.post(
        "/v1/workers:personal-data", headers=entitled, json={"worker_ids": [ids[0], hired[9]["id"]]}
    )
    assert out_of_scope.status_code == 404
    assert [e["pointer"] for e in out_of_scope.json()["errors"]] == ["/body/worker_ids/1"]
    unknown = await roster.client.post(
        "/v1/workers:personal-data", headers=entitled, json={"worker_ids": [str(uuid.uuid4())]}
    )
    assert unknown.status_code == 404
    # In scope but outside the personal-data right (masked for others): 403, nothing shown.
    partly = roster.as_(("county_admin", COUNTY), pd=(COMMUNITY_A,))
    masked = await roster.client.post("/v1/workers:personal-data", headers=partly, json={"worker_ids": ids[:2]})
    assert masked.status_code == 403
    assert [e["pointer"] for e in masked.json()["errors"]] == ["/body/worker_ids/0"]  # hired[0] is in B
    no_right = await roster.client.post(
        "/v1/workers:personal-data", headers=roster.county_admin, json={"worker_ids": ids}
    )
    assert no_right.status_code == 403
    too_many = await roster.client.post(
        "/v1/workers:personal-data", headers=entitled, json={"worker_ids": [str(uuid.uuid4())] * 1001}
    )
    assert too_many.status_code == 422
    async with roster.service.app.state.sessionmaker() as session:
        count = await session.scalar(text("SELECT count(*) FROM roster.personal_data_reads"))
    assert count == 1  # the refused reads left no record


async def test_personal_data_reads_filtered_by_actor_and_date_range(roster: Roster) -> None:
    """The audit of unmasked reads (the console's 审计 page) filters by who read and when: ``since``
    inclusive, ``until`` exclusive; a bulk record still names every worker read."""
    hired = await hire_ten(roster)
    ids = [w["id"] for w in hired[:3]]
    entitled = roster.as_(("county_admin", COUNTY), pd=(COUNTY,))
    read = await roster.client.post("/v1/workers:personal-data", headers=entitled, json={"worker_ids": ids})
    assert read.status_code == 200
    auditor = roster.as_(("auditor", COUNTY))
    (record,) = (await roster.client.get("/v1/personal-data-reads", headers=auditor)).json()["items"]
    at = record["occurred_at"]

    async def items(**params: str) -> list[dict[str, Any]]:
        answer = await roster.client.get("/v1/personal-data-reads", headers=auditor, params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    assert [r["worker_ids"] for r in await items(actor=record["actor"], since=at)] == [ids]
    assert await items(actor="someone-else") == []
    assert await items(until=at) == []  # exclusive
    assert await items(since="2100-01-01T00:00:00+08:00") == []
    assert len(await items(since="2000-01-01T00:00:00+08:00", until="2100-01-01T00:00:00+08:00")) == 1
