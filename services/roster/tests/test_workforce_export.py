"""The workforce export streams (issue #13 format, issue #16 memory): read by keyset in batches, each batch's
personal-data audit committed before its rows leave, and the file is exactly what the in-memory rendering
was — the CSV byte for byte, the .xlsx cell for cell — masked, partly unmasked and unmasked alike."""

from __future__ import annotations

import io
import uuid
from collections import Counter
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import bearer
from services.roster import workforce_export
from services.roster.domain import lifecycle
from services.roster.models import Contract, Employment, PostAssignment, Region, Worker
from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, COUNTY, NEXT_COUNTY, Roster, id_number
from services.roster.tests.test_workforce_import import KEYS, upload
from services.roster.workforce_format import COLUMNS, NO, YES, duties_text, label
from shared.auth import Grant, Principal, Role
from shared.business_time import business_today
from shared.masking import mask_id_number, mask_phone
from shared.regions import scope_prefix
from shared.scoping import path_filter
from shared.spreadsheets import Cell, csv_bytes, workbook

BATCH = 3  # small, so that the rows span several batches
TITLE = "社区工作者 workforce"


def row(serial: int, **cells: Any) -> list[Any]:
    """A row of the format (ID numbers of their own: the database is shared by the run)."""
    values: dict[str, Any] = {
        "id_number": id_number(serial, birth="19850505"),
        "name": f"流式{serial}",
        "community_code": COMMUNITY_A,
        "hire_date": "2019-03-01",
        "post": "工作人员",
        "grade": 5,
        "post_start_date": "2019-03-01",
        "contract_start": "2026-03-01",
    } | cells
    return [values.get(k) for k in KEYS]


ROWS = [
    row(1, post="正职", grade=11, duties="党建、综合治理", phone="13812345678", education="本科"),
    row(2, community_code=COMMUNITY_B, post="副职", grade=6, political_status="中共党员", generalist="是"),
    row(3, hire_date="2018-04-02", left_date="2025-02-28", post_start_date="2018-04-02", contract_start=""),
    row(4, certificate_level="助理社会工作师", certificate_date="2020-09-01", post="", grade="", post_start_date=""),
    row(5, lives_in_community="是", phone="13900001111"),
    row(6, community_code=COMMUNITY_B, grid_duties="是"),
    row(7),  # 4-7: the same community and hire date, ordered by ID number across batches
    row(8, community_code=COMMUNITY_B, hire_date="2021-07-01", post_start_date="2021-07-01"),
    row(9, id_number=id_number(9, birth="19850505", male=False), sex="女", phone="13700002222"),
    row(10, community_code=COMMUNITY_B, hire_date="2017-01-09", post_start_date="2017-01-09"),
    row(11, hire_date="2020-02-02", post_start_date="2020-02-02", contract_start="2020-02-02"),
]


def _latest(rows: Any, key: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for r in rows:
        held = out.get(r.worker_id)
        if held is None or getattr(r, key) > getattr(held, key):
            out[r.worker_id] = r
    return out


async def in_memory_rows(session: AsyncSession, principal: Principal, region: str | None, today: date) -> list[Any]:
    """The export's rows as the in-memory version built them (its code before streaming, kept here as the
    reference: every worker at once, then all their employments, posts and contracts)."""
    query = select(Worker).where(path_filter(principal, Worker.community_path))
    if region:
        query = query.where(Worker.community_path.startswith(scope_prefix(region)))
    workers = list(
        (await session.scalars(query.order_by(Worker.community_path, Worker.hire_date, Worker.id_number))).all()
    )
    ids = [w.id for w in workers]
    employments = _latest(
        (await session.scalars(select(Employment).where(Employment.worker_id.in_(ids)))).all(), "hire_date"
    )
    posts = _latest(
        (await session.scalars(select(PostAssignment).where(PostAssignment.worker_id.in_(ids)))).all(), "start_date"
    )
    contracts = _latest(
        (await session.scalars(select(Contract).where(Contract.worker_id.in_(ids)))).all(), "start_date"
    )
    names = dict(
        (
            await session.execute(
                select(Region.code, Region.name).where(Region.code.in_({w.community_code for w in workers}))
            )
        ).all()
    )
    rows: list[list[Cell]] = []
    for w in workers:
        unmasked = principal.may_unmask(w.community_code)
        employment = employments.get(w.id)
        status = None
        if employment is not None:
            period = lifecycle.Employment(employment.hire_date, employment.left_date, employment.probation_end)
            status = lifecycle.status_on([period], [], today)
        post = posts.get(w.id)
        contract = contracts.get(w.id)
        if contract is not None and contract.start_date < w.hire_date:
            contract = None
        if post is not None and post.start_date < w.hire_date:
            post = None
        values: dict[str, Cell] = {
            "id_number": w.id_number if unmasked else mask_id_number(w.id_number),
            "name": w.name,
            "sex": label("sex", w.sex),
            "phone": w.phone if unmasked else mask_phone(w.phone),
            "education": label("education", w.education),
            "political_status": label("political_status", w.political_status),
            "community_code": w.community_code,
            "community_name": names.get(w.community_code),
            "hire_date": w.hire_date,
            "left_date": w.left_date,
            "status": label("status", status),
            "lives_in_community": YES if w.lives_in_community else NO,
            "generalist": YES if w.generalist else NO,
            "grid_duties": YES if w.grid_duties else NO,
            "post": label("post", post.post) if post else None,
            "grade": post.grade if post else None,
            "post_start_date": post.start_date if post else None,
            "approval": post.approval if post else None,
            "duties": duties_text(post.duties) if post else None,
            "contract_start": contract.start_date if contract else None,
            "certificate_level": label("certificate_level", w.certificate_level),
            "certificate_date": w.certificate_date,
        }
        rows.append([values[c.key] for c in COLUMNS])
    return rows


def sheet_values(content: bytes) -> tuple[str, list[tuple[object, ...]]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return sheet.title, list(sheet.iter_rows(values_only=True))


async def audited(roster: Roster, actor: str) -> list[list[uuid.UUID]]:
    """The workers named by each audit record of ``actor``."""
    async with roster.service.app.state.sessionmaker() as session:
        result = await session.execute(
            text("SELECT worker_ids FROM roster.personal_data_reads WHERE actor = :actor ORDER BY id"),
            {"actor": actor},
        )
        return [list(ids) for (ids,) in result.all()]


async def in_scope(roster: Roster) -> list[tuple[uuid.UUID, str]]:
    """Every worker of 鹿城区 (other tests' too) with its community."""
    async with roster.service.app.state.sessionmaker() as session:
        result = await session.execute(
            select(Worker.id, Worker.community_code).where(Worker.community_path.startswith(scope_prefix(COUNTY)))
        )
        return [(i, c) for i, c in result.all()]


@pytest.mark.parametrize("pd", [(), (COMMUNITY_A,), (COUNTY,)], ids=["masked", "community A unmasked", "unmasked"])
async def test_streamed_export_is_the_in_memory_rendering_and_audits_each_unmasked_worker_once(
    roster: Roster, monkeypatch: pytest.MonkeyPatch, pd: tuple[str, ...]
) -> None:
    _, job = await upload(roster, csv_bytes(COLUMNS, ROWS))
    assert job["status"] == "succeeded", job  # the same file again is answered with its job
    monkeypatch.setattr(workforce_export, "WORKFORCE_BATCH", BATCH)
    workers = await in_scope(roster)
    assert len(workers) > 3 * BATCH  # several batches, and a last one
    subject = f"user:{uuid.uuid4()}"
    headers = bearer(roster.mint(("county_admin", COUNTY), pd=pd, subject=subject))
    principal = Principal(subject, "测试用户", (Grant(Role.county_admin, COUNTY),), personal_data_regions=pd)
    async with roster.service.app.state.sessionmaker() as session:
        expected = await in_memory_rows(session, principal, None, business_today())
    assert len(expected) == len(workers)

    streamed_csv = await roster.client.get("/v1/workforce.csv", headers=headers)
    assert streamed_csv.status_code == 200, streamed_csv.text
    assert streamed_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert streamed_csv.headers["content-disposition"] == 'attachment; filename="workforce.csv"'
    assert streamed_csv.content == csv_bytes(COLUMNS, expected)  # BOM, both header rows, CRLF, ISO dates

    # the audit: one record a batch that showed someone unmasked, every unmasked worker named exactly once
    shown = Counter(worker for record in await audited(roster, subject) for worker in record)
    unmasked = {worker for worker, community in workers if principal.may_unmask(community)}
    assert shown == Counter(unmasked)
    assert bool(unmasked) == bool(pd)
    records = await audited(roster, subject)
    assert all(0 < len(record) <= BATCH for record in records)
    assert len(records) >= -(-len(unmasked) // BATCH)  # one a batch: never one record for the whole file

    streamed_xlsx = await roster.client.get("/v1/workforce.xlsx", headers=headers)
    assert streamed_xlsx.status_code == 200, streamed_xlsx.text
    assert streamed_xlsx.headers["content-disposition"] == 'attachment; filename="workforce.xlsx"'
    assert sheet_values(streamed_xlsx.content) == sheet_values(workbook(COLUMNS, TITLE, expected))
    _, cells = sheet_values(streamed_xlsx.content)
    assert cells[0][:2] == ("身份证号", "姓名")
    assert cells[1][:2] == ("id_number", "name")
    assert len(cells) == 2 + len(workers)
    again = Counter(worker for record in await audited(roster, subject) for worker in record)
    assert again == Counter(unmasked) + Counter(unmasked)  # the .xlsx showed each once more


async def test_a_region_the_caller_cannot_see_is_a_404_problem_before_any_file(roster: Roster) -> None:
    for path in ("/v1/workforce.csv", "/v1/workforce.xlsx"):
        refused = await roster.client.get(path, headers=roster.county_admin, params={"region": NEXT_COUNTY})
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 404


async def test_keyset_batches_cover_the_scope_once_in_the_export_order(roster: Roster) -> None:
    """Batches of one: every worker exactly once, in the order of the whole (ties broken by the id)."""
    _, job = await upload(roster, csv_bytes(COLUMNS, ROWS))
    assert job["status"] == "succeeded", job
    principal = Principal("user:keyset", "测试", (Grant(Role.county_admin, COUNTY),), personal_data_regions=(COUNTY,))
    maker = roster.service.app.state.sessionmaker
    batches = await workforce_export.workforce_batches(maker, principal, COMMUNITY_B, business_today(), size=1)
    one_by_one = [rows async for rows in batches]
    async with maker() as session:
        whole = await in_memory_rows(session, principal, COMMUNITY_B, business_today())
    assert all(len(rows) == 1 for rows in one_by_one)
    assert [rows[0] for rows in one_by_one] == whole
    assert len(whole) >= 4
