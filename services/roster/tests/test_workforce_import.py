"""Workforce import (issue #13): templates, uploads as background jobs, every bad cell reported with its
rule, all-or-nothing and good-rows modes, encodings (UTF-8, BOM, GB18030), one load per file, the rows
and events the API writes, the marked error workbook, and the export in the import format."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text

from services.roster import imports, workforce_import
from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, NEXT_COMMUNITY, Roster, id_number
from services.roster.workforce_format import COLUMNS
from shared.business_time import business_today
from shared.events import event_region
from shared.spreadsheets import csv_bytes, read_table, workbook

KEYS = [c.key for c in COLUMNS]
IN_TREE = "SELECT count(*) FROM roster.workers WHERE community_path LIKE '330302%'"  # other tests commit elsewhere


def number(serial: int) -> str:
    """An ID number no other test uses (other tests commit workers: the database is shared by the run)."""
    return id_number(serial, birth="19870707")


def person(serial: int, **cells: Any) -> list[Any]:
    """A row of the format: a staff worker of 社区A hired 2019-03-01, with a contract from 2026-03-01."""
    row: dict[str, Any] = {
        "id_number": number(serial),
        "name": f"导入{serial}",
        "community_code": COMMUNITY_A,
        "hire_date": "2019-03-01",
        "post": "工作人员",
        "grade": 5,
        "post_start_date": "2019-03-01",
        "contract_start": "2026-03-01",
    } | cells
    return [row.get(k) for k in KEYS]


async def upload(
    roster: Roster,
    content: bytes,
    name: str = "workers.csv",
    mode: str = "all_or_nothing",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Upload (as 鹿城区's admin unless told), wait for the run to end: the upload's status code and the job."""
    headers = headers or roster.county_admin
    response = await roster.client.post(
        "/v1/imports",
        params={"kind": "workforce", "mode": mode},
        files={"file": (name, content)},
        headers=headers,
    )
    assert response.status_code in (200, 202), response.text
    await imports.drain()
    job = await roster.client.get(response.headers["Location"], headers=headers)
    assert job.status_code == 200, job.text
    body: dict[str, Any] = job.json()
    return response.status_code, body | {"upload": response.json()}


async def count(roster: Roster, sql: str) -> int:
    async with roster.service.app.state.sessionmaker() as session:
        return int(await session.scalar(text(sql)) or 0)


async def test_template_has_chinese_headers_english_names_dropdowns_and_text_codes(roster: Roster) -> None:
    response = await roster.client.get("/v1/imports/templates/workforce.xlsx", headers=roster.county_admin)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["身份证号", "姓名", "性别"]
    assert [c.value for c in sheet[2]][:3] == ["id_number", "name", "sex"]
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert '"正职,副职,工作人员"' in lists  # P1 posts as a dropdown
    assert sheet["A3"].number_format == "@"  # ID numbers as text: Excel keeps all 18 digits
    assert sheet["G3"].number_format == "@"  # community codes too


async def test_workers_recorded_as_they_are_today_with_the_api_rows_and_events(roster: Roster) -> None:
    today = business_today()
    recent = (today - timedelta(days=30)).isoformat()
    rows = [
        person(1, post="正职", grade=9, status="在岗", duties="党建、综合治理", sex="男"),
        person(2, hire_date=recent, post_start_date=recent, contract_start=recent, status="试用期"),
        person(3, hire_date="2020-05-01", left_date="2024-06-30", post_start_date="2020-05-01", contract_start=""),
    ]
    code, job = await upload(roster, csv_bytes(COLUMNS, rows))
    assert code == 202
    assert job["upload"]["status"] == "queued"
    assert job["status"] == "succeeded", job
    assert (job["rows_total"], job["rows_loaded"], job["error_count"]) == (3, 3, 0)
    listed = await roster.client.get("/v1/workers", headers=roster.county_admin, params={"limit": 10})
    workers = {w["name"]: w for w in listed.json()["items"]}
    assert workers["导入1"]["hire_date"] == "2019-03-01"
    assert workers["导入1"]["status"] == "active"  # not probation: hired in 2019 (H4)
    assert workers["导入1"]["current_post"]["post"] == "chief"
    assert workers["导入1"]["current_post"]["duties"] == ["party_affairs", "comprehensive_governance"]
    assert workers["导入2"]["status"] == "probation"  # hired a month ago: within probation (H4)
    assert workers["导入3"]["status"] == "left"
    assert workers["导入3"]["left_date"] == "2024-06-30"
    contracts = await roster.client.get(f"/v1/workers/{workers['导入1']['id']}/contracts", headers=roster.county_admin)
    assert [(c["start_date"], c["end_date"]) for c in contracts.json()] == [("2026-03-01", "2027-03-01")]  # H3
    subjects = [f"worker/{w['id']}" for w in workers.values()]
    async with roster.service.app.state.sessionmaker() as session:
        events = (
            await session.execute(
                text("SELECT type, data FROM roster.events WHERE subject = ANY(:subjects)"), {"subjects": subjects}
            )
        ).all()
    kinds = sorted(e.type for e in events if e.type in ("worker.hired", "post.assigned", "contract.signed"))
    assert kinds.count("worker.hired") == 3
    assert kinds.count("post.assigned") == 3
    assert kinds.count("contract.signed") == 2
    hired = next(e.data for e in events if e.type == "worker.hired" and e.data["name"] == "导入3")
    assert hired["status"] == "left"
    assert hired["employments"] == [{"hire_date": "2020-05-01", "left_date": "2024-06-30"}]
    assert number(3) not in str(hired)  # never the ID number in an event


async def test_bad_rows_write_nothing_and_each_bad_cell_is_reported_with_its_rule(roster: Roster) -> None:
    on_record = await roster.hire(20, id_number=number(20))
    assert on_record["status"] in ("active", "probation")
    good = number(21)
    rows = [
        person(21),
        person(22, id_number=good[:-1] + ("0" if good[-1] != "0" else "1")),  # wrong check digit
        person(23, community_code="330302001099"),  # no such community
        person(24, grade=13),  # a staff member graded 13: C4 says 1–12
        person(25, hire_date="2019.03.01"),  # a date in the wrong format
        person(21, name="重复"),  # the same person twice in the file
        person(20, name="已在库"),  # already on record
        person(26),
    ]
    content = csv_bytes(COLUMNS, rows)
    _, job = await upload(roster, content)
    assert job["status"] == "rejected"
    assert job["rows_loaded"] == 0
    found = {(e["row"], e["header"], e["rule"]) for e in job["errors"]}
    assert found == {
        (4, "身份证号", "GB11643"),
        (5, "社区代码", None),
        (6, "岗位等级", "C4"),
        (7, "入职日期", None),
        (8, "身份证号", None),
        (9, "身份证号", None),
    }, job["errors"]
    by_row = {e["row"]: e for e in job["errors"]}
    assert by_row[4]["detail_en"] == "the check digit is wrong"
    assert by_row[4]["column"] == "A"
    assert by_row[6]["value"] == "13"
    assert "1–12" in by_row[6]["detail_en"]
    assert "YYYY-MM-DD" in by_row[7]["detail_en"]
    assert by_row[7]["value"] == "2019.03.01"
    assert "row 3" in by_row[8]["detail_en"]
    assert "already" in by_row[9]["detail_en"]
    assert await count(roster, IN_TREE) == 1  # nothing written
    paged = await roster.client.get(f"/v1/imports/{job['id']}/errors", headers=roster.county_admin, params={"limit": 4})
    assert len(paged.json()["items"]) == 4
    assert paged.json()["next_cursor"]

    # good_rows: the same file loads its two good rows (a rejected job does not hold the file back)
    _, partial = await upload(roster, content, mode="good_rows")
    assert partial["status"] == "succeeded"
    assert (partial["rows_loaded"], partial["error_count"]) == (2, 6)
    assert await count(roster, IN_TREE) == 3


async def test_marked_workbook_fills_and_comments_each_bad_cell(roster: Roster) -> None:
    rows = [person(30), person(31, grade=15)]
    content = workbook(COLUMNS, "workforce", rows)
    _, job = await upload(roster, content, name="workers.xlsx")
    assert job["status"] == "rejected"
    response = await roster.client.get(f"/v1/imports/{job['id']}/errors.xlsx", headers=roster.county_admin)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    bad = sheet.cell(row=4, column=KEYS.index("grade") + 1)
    assert bad.value == 15
    assert bad.fill.fgColor.rgb == "FFFFC7CE"
    assert bad.comment is not None
    assert "C4" in bad.comment.text
    assert sheet.cell(row=3, column=KEYS.index("grade") + 1).comment is None  # the good row is left alone


async def test_gb18030_and_bom_csv_read_as_their_utf8_twin(roster: Roster) -> None:
    rows = [person(40, name="温州·张三"), person(41, name="台州·李四", community_code=COMMUNITY_B)]
    plain = csv_bytes(COLUMNS, rows)[3:]  # UTF-8 without the BOM
    with_bom = b"\xef\xbb\xbf" + plain
    gb = plain.decode("utf-8").encode("gb18030")
    assert gb != plain
    tables = [read_table(content, COLUMNS) for content in (plain, with_bom, gb)]
    assert tables[0].headers == tables[1].headers == tables[2].headers
    assert tables[0].rows == tables[1].rows == tables[2].rows
    _, job = await upload(roster, gb)
    assert job["status"] == "succeeded", job
    names = {w["name"] for w in (await roster.client.get("/v1/workers", headers=roster.county_admin)).json()["items"]}
    assert names == {"温州·张三", "台州·李四"}


async def test_the_same_file_twice_is_loaded_once(roster: Roster) -> None:
    content = csv_bytes(COLUMNS, [person(50), person(51)])
    first_code, first = await upload(roster, content)
    second_code, second = await upload(roster, content)
    assert (first_code, second_code) == (202, 200)
    assert second["upload"]["duplicate_of"] == first["id"] == second["id"]
    assert await count(roster, IN_TREE) == 2
    listed = await roster.client.get("/v1/imports", headers=roster.county_admin)
    assert [j["id"] for j in listed.json()["items"]] == [first["id"]]


async def test_quota_now_and_chiefs_are_checked_against_the_present_state(roster: Roster) -> None:
    # S5 now: 瓯海区 has 30 for this year; two chiefs in one community need an approval (P2).
    put = await roster.client.put(
        f"/v1/quotas/330304/{business_today().year}", headers=roster.province_admin, json={"headcount": 1}
    )
    assert put.status_code == 200
    rows = [
        person(60, community_code=NEXT_COMMUNITY),
        person(61, community_code=NEXT_COMMUNITY),
        person(62, post="正职", grade=9),
        person(63, post="正职", grade=9),
    ]
    _, job = await upload(roster, csv_bytes(COLUMNS, rows), headers=roster.province_admin)
    found = {(e["row"], e["header"], e["rule"]) for e in job["errors"]}
    assert found == {(4, "入职日期", "S5"), (6, "正职审批文件", "P2")}, job["errors"]


async def test_region_scope_and_readers(roster: Roster) -> None:
    content = csv_bytes(COLUMNS, [person(70, community_code=NEXT_COMMUNITY)])
    response = await roster.client.post(
        "/v1/imports",
        params={"kind": "workforce"},
        files={"file": ("w.csv", content)},
        headers=roster.county_admin,  # 鹿城区's admin: 瓯海区's community is not theirs
    )
    assert response.status_code == 202
    await imports.drain()
    job = (await roster.client.get(response.headers["Location"], headers=roster.county_admin)).json()
    assert job["status"] == "rejected"
    assert job["errors"][0]["header"] == "社区代码"
    reader = await roster.client.post(
        "/v1/imports",
        files={"file": ("w.csv", content)},
        headers=roster.as_(("community_secretary", COMMUNITY_A)),
    )
    assert reader.status_code == 403
    other = await roster.client.get(response.headers["Location"], headers=roster.as_(("county_admin", "330304")))
    assert other.status_code == 404


async def test_export_is_the_import_format_masked_unless_the_personal_data_right(roster: Roster) -> None:
    rows = [person(80, phone="13812345678", certificate_level="社会工作师", certificate_date="2021-06-01")]
    _, job = await upload(roster, csv_bytes(COLUMNS, rows))
    assert job["status"] == "succeeded", job
    masked = await roster.client.get("/v1/workforce.csv", headers=roster.county_admin)
    line = masked.content.decode("utf-8-sig").splitlines()[2].split(",")
    assert line[0] == number(80)[:6] + "********" + number(80)[-4:]
    assert line[3] == "138****5678"
    full = await roster.client.get("/v1/workforce.csv", headers=roster.as_(("county_admin", "330302"), pd=("330302",)))
    assert full.content.decode("utf-8-sig").splitlines()[2].split(",")[0] == number(80)
    assert (
        await count(roster, "SELECT count(*) FROM roster.personal_data_reads WHERE region LIKE '330302%'") == 1
    )  # the unmasked read, audited
    exported = dict(zip(KEYS, read_table(full.content, COLUMNS).rows[0][1], strict=True))
    assert exported["status"] == "在岗"
    assert exported["post"] == "工作人员"
    assert exported["grade"] == "5"
    assert exported["certificate_level"] == "社会工作师"
    assert exported["community_name"] == "社区A"
    xlsx = await roster.client.get("/v1/workforce.xlsx", headers=roster.as_(("county_admin", "330302"), pd=("330302",)))
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet["A3"].value == number(80)


async def test_a_job_whose_process_died_does_not_hold_its_file_back(roster: Roster) -> None:
    content = csv_bytes(COLUMNS, [person(90)])
    async with roster.service.app.state.sessionmaker() as session, session.begin():
        dead = await session.scalar(
            text(
                "INSERT INTO roster.import_jobs (kind, mode, status, region_code, region_path, file_name, file_sha256,"
                " content, created_by, created_at, started_at) VALUES ('workforce', 'all_or_nothing', 'validating',"
                " :region, :path, 'w.csv', :sha, :content, 'user:gone', now() - interval '1 hour',"
                " now() - interval '1 hour') RETURNING id"
            ),
            {
                "region": "330302",
                "path": "330302000000",
                "sha": hashlib.sha256(content).hexdigest(),
                "content": content,
            },
        )
    code, job = await upload(roster, content)
    assert code == 202  # not answered with the dead job
    assert job["status"] == "succeeded"
    old = await roster.client.get(f"/v1/imports/{dead}", headers=roster.county_admin)
    assert old.json()["status"] == "failed"
    assert old.json()["failure"] == imports.INTERRUPTED


async def test_a_file_larger_than_the_drivers_parameter_limit_is_checked_in_one_query(roster: Roster) -> None:
    """A province's file has more people than asyncpg's 32,767 parameters a statement: the check of who is
    already on the roster sends the keys as one array (it failed at 100,000 rows with ``IN``)."""
    hired = await roster.hire(88)
    async with roster.service.app.state.sessionmaker() as session:
        known = await session.scalar(
            text("SELECT id_number_key FROM roster.workers WHERE id = :id"), {"id": hired["id"]}
        )
        strangers = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(40_000)]
        found = await workforce_import.existing_keys(session, [*strangers, known])
    assert found == {known}


async def test_a_file_loaded_in_several_batches_writes_every_row_and_the_api_events(
    roster: Roster, monkeypatch: Any
) -> None:
    """The load writes ``LOAD_BATCH`` rows a round of COPYs (here 2, for 5 rows: three rounds) in the job's one
    transaction: every worker, employment, post and contract is written; each worker's ``worker.hired``
    precedes its ``post.assigned`` and ``contract.signed``; and each event carries the region the API's
    ``record_event`` gives it (``event_region`` of its data: the community; none for a contract)."""
    monkeypatch.setattr(workforce_import, "LOAD_BATCH", 2)
    rows = [person(serial) for serial in range(60, 64)] + [person(64, contract_start="")]
    _, job = await upload(roster, csv_bytes(COLUMNS, rows))
    assert job["status"] == "succeeded", job
    assert (job["rows_total"], job["rows_loaded"]) == (5, 5)
    names = [f"导入{serial}" for serial in range(60, 65)]
    async with roster.service.app.state.sessionmaker() as session:
        written = (
            await session.execute(
                text(
                    "SELECT w.name, (SELECT count(*) FROM roster.employments e WHERE e.worker_id = w.id),"
                    " (SELECT count(*) FROM roster.post_assignments p WHERE p.worker_id = w.id),"
                    " (SELECT count(*) FROM roster.contracts c WHERE c.worker_id = w.id), w.id"
                    " FROM roster.workers w WHERE w.name = ANY(:names) ORDER BY w.name"
                ),
                {"names": names},
            )
        ).all()
        assert [tuple(r[:4]) for r in written] == [(n, 1, 1, 0 if n == "导入64" else 1) for n in names]
        events = (
            await session.execute(
                text("SELECT id, type, subject, data, region FROM roster.events WHERE subject = ANY(:s) ORDER BY id"),
                {"s": [f"worker/{r.id}" for r in written]},
            )
        ).all()
    assert sum(e.type == "worker.hired" for e in events) == 5
    assert sum(e.type == "post.assigned" for e in events) == 5
    assert sum(e.type == "contract.signed" for e in events) == 4
    first: dict[str, str] = {}
    for e in events:
        first.setdefault(e.subject, e.type)
        assert e.region == event_region(e.data)  # as record_event sets it
    assert set(first.values()) == {"worker.hired"}  # a worker's hire comes before its post and contract
