"""The export writers on their own: any text survives CSV in UTF-8 and GB18030 (hypothesis), the format
negotiation of ``Accept``, and the columns a response model becomes."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from shared.exports import Charset, Column, Export, ExportFormat, _csv, _from_accept, columns_of

TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30)


async def _batches(rows: list[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), 3):
        yield rows[start : start + 3]


def _written(rows: list[dict[str, Any]], columns: list[Column], charset: Charset) -> bytes:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in _csv(_batches(rows), columns, charset)])

    return asyncio.run(collect())


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.tuples(TEXT, TEXT), max_size=12), charset=st.sampled_from(list(Charset)))
def test_any_text_round_trips_through_csv(values: list[tuple[str, str]], charset: Charset) -> None:
    columns = [Column(("name",), "姓名 name"), Column(("note",), "备注 note")]
    rows = [{"name": a, "note": b} for a, b in values]
    data = _written(rows, columns, charset)
    text = data.decode("utf-8-sig" if charset == Charset.utf8 else "gb18030")
    assert data.startswith(b"\xef\xbb\xbf") == (charset == Charset.utf8)
    header, *read = list(csv.reader(io.StringIO(text, newline="")))
    assert header == ["姓名 name", "备注 note"]
    assert read == [[a, b] for a, b in values]


def test_accept_chooses_the_format_and_the_csv_charset() -> None:
    assert _from_accept("application/json") is None
    assert _from_accept("text/csv") == Export(ExportFormat.csv)
    assert _from_accept("text/csv; charset=GB18030") == Export(ExportFormat.csv, Charset.gb18030)
    assert _from_accept("application/json;q=0.5, application/x-ndjson") == Export(ExportFormat.ndjson)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert _from_accept(xlsx) == Export(ExportFormat.xlsx)
    assert Export(ExportFormat.csv, Charset.gb18030).media_type == "text/csv; charset=gb18030"


class _Inner(BaseModel):
    grade: int = Field(description="岗位等级 grade")


class _Row(BaseModel):
    id: int
    name: str = Field(description="姓名 the person's name")
    post: _Inner | None
    tags: list[str] = Field(description="标签 tags")


def test_columns_flatten_nested_models_with_chinese_headers() -> None:
    columns = columns_of(_Row)
    assert [c.header for c in columns] == ["编号 id", "姓名 name", "post·岗位等级 post.grade", "标签 tags"]
    item = _Row(id=1, name="张三", post=_Inner(grade=3), tags=["网格", "全科"]).model_dump(mode="json")
    assert [c.value(item) for c in columns] == [1, "张三", 3, '["网格","全科"]']
    assert columns[2].value(_Row(id=2, name="李四", post=None, tags=[]).model_dump(mode="json")) is None
