"""Training attendance (E5) and assessment score (E1, E2) imports (issue #13): a good file loads the rows
and events the API writes; a file with bad rows writes nothing and names each bad cell with its rule;
good_rows loads the good ones; GB18030 reads as UTF-8 does; the same bytes twice are one job; the marked
workbook; the templates."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text

from services.evaluation import score_import, training_import
from services.evaluation.tests.conftest import COMMUNITY_A, TOWNSHIP, Evaluation
from shared import import_jobs
from shared.spreadsheets import csv_bytes, workbook

TRAINING_KEYS = [c.key for c in training_import.COLUMNS]
OURS = "worker_id IN (SELECT worker_id FROM evaluation.workers WHERE community_path LIKE '330302%')"
SCORE_KEYS = [c.key for c in score_import.COLUMNS]


def attendance(worker: str, **cells: Any) -> list[Any]:
    row = {
        "worker_id": worker,
        "course": "社区治理专题班",
        "organiser": "鹿城区民政局",
        "hours": "16",
        "start_date": "2026-04-01",
        "end_date": "2026-04-03",
    } | cells
    return [row.get(k) for k in TRAINING_KEYS]


def score(worker: str, **cells: Any) -> list[Any]:
    row = {"year": 2026, "worker_id": worker, "rater_group": "乡镇（街道）干部", "score": "88.5"} | cells
    return [row.get(k) for k in SCORE_KEYS]


async def upload(
    evaluation: Evaluation, kind: str, content: bytes, name: str = "f.csv", mode: str = "all_or_nothing"
) -> tuple[int, dict[str, Any]]:
    response = await evaluation.client.post(
        "/v1/imports",
        params={"kind": kind, "mode": mode},
        files={"file": (name, content)},
        headers=evaluation.township,
    )
    assert response.status_code in (200, 202), response.text
    await import_jobs.drain()
    job = await evaluation.client.get(response.headers["Location"], headers=evaluation.township)
    assert job.status_code == 200, job.text
    body: dict[str, Any] = job.json()
    return response.status_code, body


async def scalar(evaluation: Evaluation, sql: str) -> Any:
    async with evaluation.service.app.state.sessionmaker() as session:
        return await session.scalar(text(sql))


def bad_cells(job: dict[str, Any]) -> set[tuple[int, str, str | None]]:
    return {(e["row"], e["header"], e["rule"]) for e in job["errors"]}


async def test_a_good_attendance_file_loads_the_apis_rows_and_one_event_per_course_with_its_region(
    evaluation: Evaluation,
) -> None:
    w = evaluation.workers
    rows = [
        attendance(w[0], name=f"社工{w[0][:4]}"),
        attendance(w[1]),
        attendance(w[0], course="社工实务", hours="24", start_date="2026-05-10", end_date="2026-05-12"),
    ]
    code, job = await upload(evaluation, "training", csv_bytes(training_import.COLUMNS, rows))
    assert code == 202
    assert (job["status"], job["rows_loaded"], job["errors"]) == ("succeeded", 3, []), job
    report = await evaluation.client.get(
        "/v1/reports/training", headers=evaluation.county, params={"region": "330302", "year": 2026}
    )
    hours = {r["worker_id"]: (r["hours"], r["rule"]) for r in report.json()}
    assert hours[w[0]] == ("40.0", None)  # E5: 16 + 24 = 40 is enough
    assert hours[w[1]] == ("16.0", "E5")
    async with evaluation.service.app.state.sessionmaker() as session:
        found = (
            await session.execute(
                text(
                    "SELECT data->>'course', data->>'attendees', region FROM evaluation.events "
                    "WHERE type = 'training.recorded' ORDER BY id"
                )
            )
        ).all()
    # one event per course, as the API writes; its region the one its attendees share (county feeds see it)
    assert [tuple(r) for r in found] == [("社区治理专题班", "2", TOWNSHIP), ("社工实务", "1", COMMUNITY_A)]


async def test_an_attendance_file_with_bad_rows_writes_nothing_and_names_each_bad_cell(
    evaluation: Evaluation,
) -> None:
    w = evaluation.workers
    rows = [
        attendance(w[0]),  # row 3: good
        attendance(w[1], hours="0"),  # row 4: E5, hours must be over 0
        attendance(w[2], hours="250"),  # row 5: E5, at most 200
        attendance(w[3], start_date="2026/4/1"),  # row 6: a date in the wrong format
        attendance(w[4], end_date="2026-03-01"),  # row 7: ends before it starts
        attendance("00000000-0000-0000-0000-0000000000ff"),  # row 8: no such worker
        attendance(w[5], name="别人"),  # row 9: the name is not that worker's
        attendance(w[0]),  # row 10: the same attendance as row 3
    ]
    content = csv_bytes(training_import.COLUMNS, rows)
    _, job = await upload(evaluation, "training", content)
    assert job["status"] == "rejected"
    assert job["rows_loaded"] == 0
    assert bad_cells(job) == {
        (4, "学时", "E5"),
        (5, "学时", "E5"),
        (6, "开始日期", None),
        (7, "结束日期", None),
        (8, "社工编号", None),
        (9, "姓名", None),
        (10, "社工编号", None),
    }
    assert all(e["detail_zh"] and e["detail_en"] for e in job["errors"])
    assert await scalar(evaluation, f"SELECT count(*) FROM evaluation.training_records WHERE {OURS}") == 0
    assert (
        await scalar(
            evaluation,
            "SELECT count(*) FROM evaluation.events WHERE type = 'training.recorded' AND region LIKE '330302%'",
        )
        == 0
    )
    # good_rows: the good row loads (the file's bytes differ: another job)
    _, partial = await upload(evaluation, "training", content, name="again.csv", mode="good_rows")
    assert (partial["status"], partial["rows_loaded"], partial["error_count"]) == ("succeeded", 1, 7)
    assert await scalar(evaluation, f"SELECT count(*) FROM evaluation.training_records WHERE {OURS}") == 1


async def test_gb18030_reads_as_its_utf8_twin(evaluation: Evaluation) -> None:
    w = evaluation.workers
    rows = [attendance(w[0], name=f"社工{w[0][:4]}"), attendance(w[1], name="张三"), attendance(w[2], hours="1.25")]
    utf8 = csv_bytes(training_import.COLUMNS, rows)
    gb = utf8.decode("utf-8-sig").encode("gb18030")
    _, from_utf8 = await upload(evaluation, "training", utf8)
    _, from_gb = await upload(evaluation, "training", gb, mode="all_or_nothing")
    assert from_gb["file_sha256"] != from_utf8["file_sha256"]
    assert from_gb["errors"] == from_utf8["errors"]
    assert bad_cells(from_gb) == {(4, "姓名", None), (5, "学时", "E5")}  # a name not the worker's; one decimal (E5)


async def test_the_same_bytes_twice_are_one_job(evaluation: Evaluation) -> None:
    content = csv_bytes(training_import.COLUMNS, [attendance(evaluation.workers[0])])
    first_code, first = await upload(evaluation, "training", content)
    second_code, second = await upload(evaluation, "training", content)
    assert (first_code, second_code) == (202, 200)
    assert second["id"] == first["id"]
    assert await scalar(evaluation, f"SELECT count(*) FROM evaluation.training_records WHERE {OURS}") == 1
    assert await scalar(evaluation, "SELECT count(*) FROM evaluation.import_jobs WHERE region_path LIKE '330302%'") == 1


async def test_templates_have_chinese_headers_dropdowns_and_text_ids(evaluation: Evaluation) -> None:
    response = await evaluation.client.get("/v1/imports/templates/scores.xlsx", headers=evaluation.township)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["年度", "社工编号", "姓名", "评价主体", "得分", "评价人数", "普通居民占比"]
    assert [c.value for c in sheet[2]][:2] == ["year", "worker_id"]
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert any("乡镇（街道）干部" in f and "居民代表" in f for f in lists)  # E2 rater groups as a dropdown
    assert sheet["B3"].number_format == "@"  # the worker id as text
    training = await evaluation.client.get("/v1/imports/templates/training.xlsx", headers=evaluation.township)
    assert [c.value for c in load_workbook(io.BytesIO(training.content)).worksheets[0][1]][:2] == ["社工编号", "姓名"]


async def test_scores_load_into_the_open_cycle_as_the_api_enters_them(evaluation: Evaluation) -> None:
    cycle_id = await evaluation.open_cycle(2026)
    w = evaluation.workers
    rows = [
        score(w[0]),
        score(w[0], rater_group="residents", score=91, panel_size=60, ordinary_share=0.8),
        score(w[1], rater_group="同事", score="75"),
    ]
    content = workbook(score_import.COLUMNS, "scores", rows)
    _, job = await upload(evaluation, "scores", content, name="scores.xlsx")
    assert (job["status"], job["rows_loaded"]) == ("succeeded", 3), job
    async with evaluation.service.app.state.sessionmaker() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT worker_id::text, rater_group, score, panel_size, ordinary_share FROM evaluation.scores "
                    "WHERE cycle_id = :c ORDER BY worker_id, rater_group"
                ),
                {"c": cycle_id},
            )
        ).all()
    assert [(r[0], r[1], str(r[2]), r[3], str(r[4])) for r in stored] == [
        (w[0], "residents", "91.00", 60, "0.800"),
        (w[0], "township_cadres", "88.50", None, "None"),
        (w[1], "peers", "75.00", None, "None"),
    ]


async def test_bad_scores_write_nothing_and_come_back_marked_in_the_workbook(evaluation: Evaluation) -> None:
    await evaluation.open_cycle(2026)
    w = evaluation.workers
    rows = [
        score(w[0]),  # row 3: good
        score(w[1], score="101"),  # row 4: E2, 0–100
        score(w[2], rater_group="路人"),  # row 5: E2, not a rater group
        score(w[3], year=2024),  # row 6: E1, no open 2024 assessment
        score(w[4], ordinary_share="1.5"),  # row 7: E2, a share is at most 1
        score(w[0]),  # row 8: the same worker and group as row 3
    ]
    _, job = await upload(evaluation, "scores", workbook(score_import.COLUMNS, "scores", rows), name="s.xlsx")
    assert job["status"] == "rejected"
    assert bad_cells(job) == {
        (4, "得分", "E2"),
        (5, "评价主体", "E2"),
        (6, "年度", "E1"),
        (7, "普通居民占比", "E2"),
        (8, "评价主体", "E2"),
    }
    assert await scalar(evaluation, f"SELECT count(*) FROM evaluation.scores WHERE {OURS}") == 0
    marked = await evaluation.client.get(f"/v1/imports/{job['id']}/errors.xlsx", headers=evaluation.township)
    assert marked.status_code == 200
    sheet = load_workbook(io.BytesIO(marked.content)).worksheets[0]
    assert sheet["E4"].fill.fgColor.rgb == "FFFFC7CE"
    assert sheet["E4"].comment is not None
    assert "E2" in sheet["E4"].comment.text
    assert sheet["A6"].comment is not None
    assert "E1" in sheet["A6"].comment.text
    assert sheet["E3"].comment is None  # the good row's cells are not marked


async def test_imports_are_scoped_to_the_callers_region(evaluation: Evaluation) -> None:
    content = csv_bytes(training_import.COLUMNS, [attendance(evaluation.workers[0])])
    elsewhere = evaluation.as_(("township_officer", "330302009000"))
    response = await evaluation.client.post(
        "/v1/imports", params={"kind": "training"}, files={"file": ("f.csv", content)}, headers=elsewhere
    )
    assert response.status_code == 202
    await import_jobs.drain()
    job = (await evaluation.client.get(response.headers["Location"], headers=elsewhere)).json()
    assert job["status"] == "rejected"
    assert bad_cells(job) == {(3, "社工编号", None)}  # not a worker of 330302009000
    other = await evaluation.client.get(response.headers["Location"], headers=evaluation.township)
    assert other.status_code == 404  # another township's job is not found
    reader = await evaluation.client.post(
        "/v1/imports",
        params={"kind": "training"},
        files={"file": ("f.csv", content)},
        headers=evaluation.as_(("community_secretary", COMMUNITY_A)),
    )
    assert reader.status_code == 403
