"""Reference statistics import (issue #13, C2, C3): a good file sets the statistics the targets read, as
``PUT /v1/reference-statistics`` does; a file with bad rows writes nothing and names each bad cell with
its rule; good_rows loads the good ones; GB18030 reads as UTF-8 does; the same bytes twice are one job."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.compensation import statistic_import
from services.compensation.tests.conftest import Compensation
from shared import import_jobs
from shared.spreadsheets import csv_bytes, workbook

KEYS = [c.key for c in statistic_import.COLUMNS]


def statistic(region: str = "330302", **cells: Any) -> list[Any]:
    row = {
        "region_code": region,
        "year": 2025,
        "kind": "城镇常住居民人均可支配收入",
        "value": "80000.00",
        "source": "统计公报",
    } | cells
    return [row.get(k) for k in KEYS]


async def upload(
    compensation: Compensation,
    content: bytes,
    name: str = "s.csv",
    mode: str = "all_or_nothing",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = headers or compensation.county
    response = await compensation.client.post(
        "/v1/imports",
        params={"kind": "statistics", "mode": mode},
        files={"file": (name, content)},
        headers=headers,
    )
    assert response.status_code in (200, 202), response.text
    await import_jobs.drain()
    job = await compensation.client.get(response.headers["Location"], headers=headers)
    assert job.status_code == 200, job.text
    body: dict[str, Any] = job.json()
    return response.status_code, body


async def stored(compensation: Compensation) -> list[tuple[str, int, str, str]]:
    async with compensation.service.app.state.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT region_code, year, kind, value::text FROM compensation.reference_statistics"
                " WHERE region_code LIKE '330302%' ORDER BY 1, 2, 3"
            )
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


async def test_a_good_file_sets_the_statistics_the_target_reads(compensation: Compensation) -> None:
    rows = [
        statistic(),
        statistic(kind="community_worker_average_pay", value=98000),
        statistic("330302001000", kind="全社会单位就业人员年平均工资", value="101234.56"),
    ]
    code, job = await upload(compensation, workbook(statistic_import.COLUMNS, "s", rows), name="s.xlsx")
    assert code == 202
    assert (job["status"], job["rows_loaded"], job["errors"]) == ("succeeded", 3, []), job
    assert await stored(compensation) == [
        ("330302", 2025, "community_worker_average_pay", "98000.00"),
        ("330302", 2025, "urban_disposable_income", "80000.00"),
        ("330302001000", 2025, "average_wage_all_employed", "101234.56"),
    ]
    target = (await compensation.client.get("/v1/targets/330302/2026", headers=compensation.county)).json()
    assert (target["rule"], target["target_average"]) == ("C2", "98000.00")  # raised to last year's actual


async def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_cell(compensation: Compensation) -> None:
    rows = [
        statistic(),  # row 3: good
        statistic(value="-5"),  # row 4: C2, a statistic is positive
        statistic(value="80000.123"),  # row 5: C2, exact to the cent
        statistic(kind="average_wage_all_employed", year=1999),  # row 6: C3, a year 2000–2100
        statistic("33030"),  # row 7: not a region code
        statistic(kind="人口"),  # row 8: not a statistic kind
        statistic("330304"),  # row 9: not a region the county administers
        statistic(source="另一公报"),  # row 10: the same region, year and statistic as row 3
    ]
    content = csv_bytes(statistic_import.COLUMNS, rows)
    _, job = await upload(compensation, content)
    assert job["status"] == "rejected"
    assert {(e["row"], e["header"], e["rule"]) for e in job["errors"]} == {
        (4, "数值（元）", "C2"),
        (5, "数值（元）", "C2"),
        (6, "年度", "C3"),
        (7, "区划代码", "C2"),
        (8, "指标", "C2"),
        (9, "区划代码", "C2"),
        (10, "指标", "C2"),
    }
    assert all(e["detail_zh"] and e["detail_en"] for e in job["errors"])
    assert await stored(compensation) == []
    _, partial = await upload(compensation, content, mode="good_rows", name="again.csv")
    assert (partial["status"], partial["rows_loaded"]) == ("succeeded", 1)
    assert await stored(compensation) == [("330302", 2025, "urban_disposable_income", "80000.00")]


async def test_gb18030_equals_utf8_and_the_same_bytes_are_one_job(compensation: Compensation) -> None:
    rows = [statistic(source="鹿城区统计局《2025年国民经济和社会发展统计公报》")]
    utf8 = csv_bytes(statistic_import.COLUMNS, rows)
    gb = utf8.decode("utf-8-sig").encode("gb18030")
    _, from_gb = await upload(compensation, gb)
    assert (from_gb["status"], from_gb["rows_loaded"]) == ("succeeded", 1), from_gb
    async with compensation.service.app.state.sessionmaker() as session:
        source = await session.scalar(
            text("SELECT source FROM compensation.reference_statistics WHERE region_code = '330302'")
        )
    assert source == "鹿城区统计局《2025年国民经济和社会发展统计公报》"
    _, from_utf8 = await upload(compensation, utf8)
    assert (from_utf8["status"], from_utf8["rows_loaded"]) == ("succeeded", 1)
    assert await stored(compensation) == [("330302", 2025, "urban_disposable_income", "80000.00")]
    again_code, again = await upload(compensation, gb)
    assert (again_code, again["id"]) == (200, from_gb["id"])  # answered with the first job, not run again


async def test_only_administrators_of_the_region_set_statistics(compensation: Compensation) -> None:
    content = csv_bytes(statistic_import.COLUMNS, [statistic("330302001000")])
    _, job = await upload(compensation, content, headers=compensation.township)  # a township officer
    assert job["status"] == "rejected"
    assert [(e["header"], e["rule"]) for e in job["errors"]] == [("区划代码", "C2")]
    assert await stored(compensation) == []
