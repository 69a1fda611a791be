"""The workers CSV export rendered by PostgreSQL (``COPY … TO STDOUT``, issue #16) is byte for byte the Python
rendering of the list's own JSON items (``shared.exports._csv`` over what NDJSON streams): same header,
BOM or GB18030, cell formatting (dates, booleans, masked ID numbers and phones as ``shared.masking``, the
status as of the day by H4/H6's order, employments and duties as JSON text), quoting and CRLF record ends,
on varied data written straight into the tables: names with commas, quotes, CR/LF and astral characters,
missing optional fields, several employments, posts and secondments, timestamps with and without
microseconds."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from services.roster.api.workers import WORKER_COLUMNS
from services.roster.models import Employment, PostAssignment, Secondment, Worker
from services.roster.schemas import CertificateLevel, Duty, Education, PoliticalStatus
from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, COMMUNITY_C, NEXT_COMMUNITY, Roster
from shared.exports import Charset, _csv, _xlsx, crlf_records
from shared.vocabulary import Post

BASE = date(2020, 1, 1)
TRICKY = ["张三", "a,b", 'say "hi"', "two\nlines", "cr\r\nlf", "=1+1", " lead", "郑𠀀", "冯·阿依古丽", '"', ",", "\n"]
texts = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=0, max_size=12),
)
days = st.integers(0, 3000).map(lambda n: BASE + timedelta(days=n))


@st.composite
def periods(draw: st.DrawFn, most: int) -> list[tuple[date, date | None]]:
    """Up to ``most`` ordered, non-overlapping periods ``(start, end)``; the last may be open."""
    cuts = sorted(draw(st.sets(st.integers(0, 3000), min_size=0, max_size=2 * most)))
    out: list[tuple[date, date | None]] = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        out.append((BASE + timedelta(days=start), BASE + timedelta(days=end)))
    if len(cuts) % 2:
        out.append((BASE + timedelta(days=cuts[-1]), None))
    return out


@st.composite
def worker(draw: st.DrawFn) -> dict[str, Any]:
    employments = draw(periods(3))
    micro = draw(st.sampled_from([0, 1, 120000, 999999]))
    return {
        "row": {
            "id": uuid.uuid4(),
            "id_number_key": uuid.uuid4().hex,
            "id_number": draw(st.text("0123456789X", max_size=18)),
            "name": draw(texts.filter(lambda t: len(t) <= 50)),
            "sex": draw(st.sampled_from(["male", "female", ""])),
            "birth_date": draw(days),
            "phone": draw(st.none() | st.text("0123456789+-", max_size=20)),
            "education": draw(st.none() | st.sampled_from([e.value for e in Education])),
            "political_status": draw(st.none() | st.sampled_from([p.value for p in PoliticalStatus])),
            "community_code": (community := draw(st.sampled_from([COMMUNITY_A, COMMUNITY_B, COMMUNITY_C]))),
            "community_path": community,
            "lives_in_community": draw(st.booleans()),
            "generalist": draw(st.booleans()),
            "grid_duties": draw(st.booleans()),
            "certificate_level": draw(st.none() | st.sampled_from([c.value for c in CertificateLevel])),
            "certificate_date": draw(st.none() | days),
            "status": "active",
            "hire_date": draw(days),
            "left_date": draw(st.none() | days),
            "career_staff_date": draw(st.none() | days),
            "career_staff_document": draw(st.none() | texts.filter(lambda t: len(t) <= 200)),
            "version": draw(st.integers(1, 10**6)),
            "updated_at": datetime(2026, 1, 5, 1, 2, 3, micro, tzinfo=UTC)
            + timedelta(seconds=draw(st.integers(0, 10**8))),
        },
        "employments": [(start, end, start + timedelta(days=draw(st.integers(0, 400)))) for start, end in employments],
        "secondments": [(start, end or start + timedelta(days=90)) for start, end in draw(periods(2))],
        "posts": [
            (
                start,
                end,
                draw(st.sampled_from([p.value for p in Post])),
                draw(st.integers(1, 18)),
                draw(st.none() | texts.filter(lambda t: len(t) <= 200)),
                draw(st.lists(st.sampled_from([d.value for d in Duty]), max_size=3, unique=True)),
            )
            for start, end in draw(periods(2))
        ],
    }


async def write(roster: Roster, workers: list[dict[str, Any]]) -> None:
    async with roster.service.app.state.sessionmaker() as session:
        for w in workers:
            wid = w["row"]["id"]
            await session.execute(insert(Worker).values(**w["row"]))
            for hire, left, probation_end in w["employments"]:
                probation = max(probation_end, hire)
                await session.execute(
                    insert(Employment).values(worker_id=wid, hire_date=hire, left_date=left, probation_end=probation)
                )
            for start, end in w["secondments"]:
                await session.execute(
                    insert(Secondment).values(worker_id=wid, kind="loan", host="民政局", start_date=start, end_date=end)
                )
            for start, end, post, grade, approval, duties in w["posts"]:
                await session.execute(
                    insert(PostAssignment).values(
                        worker_id=wid,
                        community_code=w["row"]["community_code"],
                        post=post,
                        grade=grade,
                        start_date=start,
                        end_date=end,
                        approval=approval,
                        duties=duties,
                    )
                )
        await session.commit()


async def erase(roster: Roster, workers: list[dict[str, Any]]) -> None:
    ids = [w["row"]["id"] for w in workers]
    async with roster.service.app.state.sessionmaker() as session:
        for table in (PostAssignment, Secondment, Employment):
            await session.execute(delete(table).where(table.worker_id.in_(ids)))
        await session.execute(delete(Worker).where(Worker.id.in_(ids)))
        await session.commit()


async def json_items(roster: Roster, params: dict[str, str]) -> AsyncIterator[list[dict[str, Any]]]:
    """The list's JSON items, as NDJSON streams them (one batch)."""
    response = await roster.client.get(
        "/v1/workers", headers=roster.province_admin, params=params | {"format": "ndjson"}
    )
    assert response.status_code == 200, response.text
    yield [json.loads(line) for line in response.text.split("\n") if line]


async def python_rendering(roster: Roster, params: dict[str, str], charset: Charset) -> bytes:
    """The reference: the list's JSON items written by ``shared.exports._csv``."""
    return b"".join([chunk async for chunk in _csv(json_items(roster, params), WORKER_COLUMNS, charset)])


def cells(workbook: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).active
    assert sheet is not None
    return [[(type(c.value).__name__, c.value) for c in row] for row in sheet.iter_rows()]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    workers=st.lists(worker(), min_size=0, max_size=6),
    as_of=st.none() | days,
    charset=st.sampled_from(list(Charset)),
)
async def test_the_copy_rendering_is_the_python_rendering_byte_for_byte(
    roster: Roster, workers: list[dict[str, Any]], as_of: date | None, charset: Charset
) -> None:
    await write(roster, workers)
    try:
        params = {"charset": charset.value} | ({"as_of": as_of.isoformat()} if as_of else {})
        response = await roster.client.get(
            "/v1/workers", headers=roster.province_admin, params=params | {"format": "csv"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == f"text/csv; charset={charset.value}"
        expected = await python_rendering(roster, params, charset)
        assert response.content == expected
        assert response.content.count(b"\r\n") >= len(workers) + 1  # RFC 4180 record ends, as the Python writer
    finally:
        await erase(roster, workers)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(workers=st.lists(worker(), min_size=1, max_size=5), as_of=st.none() | days)
async def test_the_xlsx_of_sql_rendered_cells_is_the_python_ones_cell_for_cell(
    roster: Roster, workers: list[dict[str, Any]], as_of: date | None
) -> None:
    """The .xlsx fed with PostgreSQL's cells has the Python path's cells: same values, same types (booleans
    and integers as such, everything else text, empty cells empty)."""
    await write(roster, workers)
    try:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        response = await roster.client.get(
            "/v1/workers", headers=roster.province_admin, params=params | {"format": "xlsx"}
        )
        assert response.status_code == 200, response.text
        expected = b"".join([chunk async for chunk in _xlsx(json_items(roster, params), WORKER_COLUMNS, "workers")])
        got, want = cells(response.content), cells(expected)
        assert len(got) == len(want) == len(workers) + 1
        for row, (got_row, want_row) in enumerate(zip(got, want, strict=True)):
            differing = [(n, a, b) for n, (a, b) in enumerate(zip(got_row, want_row, strict=True)) if a != b]
            assert got_row == want_row, (row, differing)
    finally:
        await erase(roster, workers)


async def test_scope_and_filters_are_the_lists(roster: Roster) -> None:
    """A county admin's export holds the county's workers only; a region filter narrows it (the list's query)."""
    hired = [await roster.hire(n, community=c) for n, c in enumerate([COMMUNITY_A, COMMUNITY_B, NEXT_COMMUNITY])]
    whole = await roster.client.get("/v1/workers", headers=roster.county_admin, params={"format": "csv"})
    narrowed = await roster.client.get(
        "/v1/workers", headers=roster.province_admin, params={"format": "csv", "region": COMMUNITY_B}
    )
    assert [r.split(",")[0] for r in whole.text.lstrip("\ufeff").split("\r\n")[1:-1]] == sorted(
        h["id"] for h in hired[:2]
    )
    assert [r.split(",")[0] for r in narrowed.text.lstrip("\ufeff").split("\r\n")[1:-1]] == [hired[1]["id"]]


def test_record_ends_become_crlf_outside_quotes_only_across_chunks() -> None:
    """A newline inside a quoted cell stays; one ending a record becomes CRLF, even when a chunk ends inside
    quotes or between a quote pair."""
    copied = b'a,"x\ny",b\nc,"say ""hi""",d\n"\n",e\n'
    expected = b'a,"x\ny",b\r\nc,"say ""hi""",d\r\n"\n",e\r\n'
    for cut in range(len(copied) + 1):
        first, quoted = crlf_records(copied[:cut], False)
        second, quoted = crlf_records(copied[cut:], quoted)
        assert first + second == expected, cut
        assert quoted is False
