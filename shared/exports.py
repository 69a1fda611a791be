"""Exports of the list endpoints: CSV, .xlsx and NDJSON of exactly what the JSON list returns, streamed.

A list operation takes :data:`ExportDep` and, when the caller asked for a file, hands
:func:`export_response` its rows: either a *batch source* — ``source(session, cursor)`` returning one
keyset page (the list's own page function, so the rows, their region scoping, filters and masking are the
JSON list's) and the cursor of the next one — or, for a list the JSON endpoint builds whole anyway, the
items themselves. Nothing holds the whole result: each batch is read in its own short transaction,
written out and dropped (CSV and NDJSON stream as they are made; an .xlsx is written row by row to a
temporary file by xlsxwriter's ``constant_memory`` mode and streamed from there). A list whose cells
PostgreSQL can render itself (the masked workers list, issue #16) skips the models: its CSV is ``COPY (…) TO
STDOUT`` streamed chunk by chunk (:func:`copy_csv_response`), its .xlsx fed with the statement's rows
(:func:`xlsx_rows_response`); tests hold both to this module's Python rendering.

The format is chosen by ``format=csv|xlsx|ndjson`` or else by ``Accept`` (``text/csv``,
``application/vnd.openxmlformats-officedocument.spreadsheetml.sheet``, ``application/x-ndjson``); without
either the answer is the JSON page. CSV is UTF-8 with a byte-order mark (Excel opens it as UTF-8), or
GB18030 with ``charset=gb18030`` (the query parameter, or ``Accept: text/csv; charset=gb18030``).

Columns: NDJSON lines are the JSON items unchanged. CSV and .xlsx have one header row, each header the
field's Chinese name and its English (JSON) name, e.g. ``姓名 name``; a nested object's fields become
columns of their own (``岗位 current_post.post``), lists and free-form objects one cell of JSON text.
Values are the JSON values: money stays a decimal string (exact to the cent), dates ISO 8601, booleans
``true``/``false`` in CSV and a boolean cell in .xlsx, nothing is ever written as a spreadsheet formula.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import functools
import io
import json
import os
import tempfile
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import xlsxwriter
from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import StreamingResponse

from shared.glossary import GLOSSARY
from shared.pagination import Page
from shared.spreadsheets import DATE_FORMAT

EXPORT_BATCH = 1000  # rows per batch: one keyset page, one short transaction
XLSX_MAX_ROWS = 1_048_575  # a worksheet's last row, 0-based (its rows less one header row)
_CHUNK = 1 << 16


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    ndjson = "ndjson"


class Charset(StrEnum):
    utf8 = "utf-8"
    gb18030 = "gb18030"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.csv: "text/csv",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.ndjson: "application/x-ndjson",
}
_BY_MEDIA_TYPE = {media: fmt for fmt, media in MEDIA_TYPES.items()}


@dataclass(frozen=True)
class Export:
    """What the caller asked for: a format and, for CSV, a character set."""

    format: ExportFormat
    charset: Charset = Charset.utf8

    @property
    def media_type(self) -> str:
        media = MEDIA_TYPES[self.format]
        if self.format == ExportFormat.csv:
            return f"{media}; charset={self.charset.value}"
        if self.format == ExportFormat.ndjson:
            return f"{media}; charset=utf-8"
        return media


def _from_accept(accept: str) -> Export | None:
    """The first export media type ``Accept`` names (with a CSV ``charset``), if any."""
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        fmt = _BY_MEDIA_TYPE.get(media.lower())
        if fmt is None:
            continue
        charset = Charset.utf8
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip().strip('"').lower() == Charset.gb18030.value:
                charset = Charset.gb18030
        return Export(fmt, charset)
    return None


def export_choice(
    request: Request,
    format: Annotated[
        ExportFormat | None,
        Query(
            description="导出格式 export as csv, xlsx or ndjson instead of the JSON page (or ask by Accept: text/csv, "
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/x-ndjson); "
            "the whole filtered list is streamed, `limit` and `cursor` do not apply"
        ),
    ] = None,
    charset: Annotated[
        Charset | None,
        Query(description="字符集 CSV character set: utf-8 (with BOM, the default) or gb18030"),
    ] = None,
) -> Export | None:
    """The export the caller asked for, or ``None`` for the JSON list."""
    chosen = Export(format) if format is not None else _from_accept(request.headers.get("accept", ""))
    if chosen is None:
        return None
    if charset is not None:
        chosen = Export(chosen.format, charset)
    return chosen


ExportDep = Annotated[Export | None, Depends(export_choice)]

# The OpenAPI ``responses`` entry of a list operation that can export (merge with problem_responses).
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "列表 the JSON page; with `format` or `Accept`, the whole filtered list as a file "
        "(CSV: UTF-8 with BOM or GB18030, one header row `中文名 field`; .xlsx; NDJSON: one JSON item a line)",
        "content": {
            MEDIA_TYPES[ExportFormat.csv]: {"schema": {"type": "string"}},
            MEDIA_TYPES[ExportFormat.xlsx]: {"schema": {"type": "string", "format": "binary"}},
            MEDIA_TYPES[ExportFormat.ndjson]: {"schema": {"type": "string"}},
        },
    }
}


@dataclass(frozen=True)
class Column:
    """One column of a CSV or .xlsx export: where its value is in a JSON item, and its header."""

    path: tuple[str, ...]
    header: str

    def value(self, item: dict[str, Any]) -> Any:
        current: Any = item
        for key in self.path:
            if not isinstance(current, dict):
                return None
            current = current.get(key)
        if isinstance(current, dict | list):
            return json.dumps(current, ensure_ascii=False, separators=(",", ":"))
        return current


def _chinese_name(name: str, description: str | None) -> str:
    """The Chinese name at the head of a field's description (or the glossary's), else the field name."""
    for text in (description or "", GLOSSARY.get(name, "")):
        head = text.split(" ", 1)[0].strip()
        if head and any("\u4e00" <= ch <= "\u9fff" for ch in head):
            return head.rstrip("：:;；,，")
    return name


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field that is a model or an optional one (flattened into columns)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _nested_model(members[0])
    return None


def columns_of(model: type[BaseModel], prefix: tuple[str, ...] = (), zh_prefix: str = "") -> list[Column]:
    """The columns of a response model: every field, nested models flattened, headers ``中文名 path``."""
    columns: list[Column] = []
    for name, field in model.model_fields.items():
        zh = _chinese_name(name, field.description)
        nested = _nested_model(field.annotation)
        if nested is not None:
            columns.extend(columns_of(nested, (*prefix, name), zh_prefix + zh + "·"))
            continue
        path = (*prefix, name)
        columns.append(Column(path, f"{zh_prefix}{zh} {'.'.join(path)}"))
    return columns


BatchSource = Callable[[AsyncSession, str | None], Awaitable[tuple[Sequence[BaseModel], str | None]]]


@dataclass(frozen=True)
class Streamed:
    """A set-based row source: ``rows(session)`` yields the list's items batch by batch from one query read
    through a server-side cursor, in one read transaction (the list's keyset pages re-run the list's query
    for every batch: a province's export then scans the province once per thousand rows, issue #16)."""

    rows: Callable[[AsyncSession], AsyncIterator[Sequence[BaseModel]]]


Source = BatchSource | Sequence[BaseModel] | Streamed


async def _batches(request: Request, source: Source) -> AsyncIterator[list[dict[str, Any]]]:
    """The items as JSON objects, one batch at a time; each batch read in a transaction of its own (a
    :class:`Streamed` source: all in one)."""
    if isinstance(source, Streamed):
        async with request.app.state.sessionmaker() as session:
            async for items in source.rows(session):
                yield [item.model_dump(mode="json") for item in items]
        return
    if not callable(source):
        for start in range(0, len(source), EXPORT_BATCH):
            yield [item.model_dump(mode="json") for item in source[start : start + EXPORT_BATCH]]
        return
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    cursor: str | None = None
    while True:
        async with maker() as session:
            items, cursor = await source(session, cursor)
            await session.commit()  # e.g. the audit of the unmasked rows, before they leave
        yield [item.model_dump(mode="json") for item in items]
        if cursor is None or not items:  # a pull-sync page always has a cursor: an empty one means caught up
            return


def _csv_text(rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in row])
    return out.getvalue()


async def _csv(
    batches: AsyncIterator[list[dict[str, Any]]], columns: list[Column], charset: Charset
) -> AsyncIterator[bytes]:
    bom = "\ufeff" if charset == Charset.utf8 else ""  # Excel reads a UTF-8 CSV as UTF-8 only after a BOM
    yield (bom + _csv_text([[c.header for c in columns]])).encode(charset.value)
    async for batch in batches:
        yield _csv_text([c.value(item) for c in columns] for item in batch).encode(charset.value)


async def _ndjson(batches: AsyncIterator[list[dict[str, Any]]]) -> AsyncIterator[bytes]:
    async for batch in batches:
        yield "".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n" for item in batch).encode()


async def _xlsx(
    batches: AsyncIterator[list[dict[str, Any]]], columns: list[Column], sheet: str
) -> AsyncIterator[bytes]:
    async def rows() -> AsyncIterator[Iterable[Sequence[Any]]]:
        async for batch in batches:
            yield ([column.value(item) for column in columns] for item in batch)

    async for chunk in xlsx_stream(rows(), [[column.header for column in columns]], sheet):
        yield chunk


async def xlsx_stream(
    batches: AsyncIterator[Iterable[Sequence[Any]]], header_rows: Sequence[Sequence[str]], sheet: str
) -> AsyncIterator[bytes]:
    """The .xlsx of rows of cell values under ``header_rows`` (bold; one row for a list, two for an import
    format's Chinese and English headers), written row by row to a temporary file and streamed from there.

    None is an empty cell, a bool a boolean cell, a number a number cell, a date a date cell shown
    ``yyyy-mm-dd`` (as openpyxl writes one: the importer reads it back as the date), anything else text."""
    handle, path = tempfile.mkstemp(prefix="shegong-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,  # each row is flushed to the temp file as the next one starts
                "strings_to_numbers": False,
                "strings_to_formulas": False,  # a name like "=1+1" stays text
                "strings_to_urls": False,
                "tmpdir": tempfile.gettempdir(),
            },
        )
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        day = workbook.add_format({"num_format": DATE_FORMAT})
        for row, headers in enumerate(header_rows):
            for col, header in enumerate(headers):
                worksheet.write_string(row, col, header, bold)
        row = len(header_rows) - 1
        async for batch in batches:
            for values in batch:
                row += 1
                if row > XLSX_MAX_ROWS:  # a worksheet's last row (0-based); the rest is cut
                    break
                for col, value in enumerate(values):
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        worksheet.write_boolean(row, col, value)
                    elif isinstance(value, int | float):
                        worksheet.write_number(row, col, value)
                    elif isinstance(value, date):  # a datetime too
                        worksheet.write_datetime(row, col, value, day)
                    else:
                        worksheet.write_string(row, col, str(value))
        worksheet.freeze_panes(len(header_rows), 0)
        await asyncio.to_thread(workbook.close)  # zips the sheet: off the event loop
        with open(path, "rb") as file:  # noqa: ASYNC230 - chunks of a local temp file
            while chunk := file.read(_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def file_stream(
    body: AsyncIterator[bytes], media_type: str, filename: str, *, vary_accept: bool = False
) -> StreamingResponse:
    """A file download streamed as ``body`` makes it (never the whole file in memory); ``vary_accept`` where
    the format was chosen by the Accept header."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if vary_accept:
        headers["Vary"] = "Accept"
    return StreamingResponse(body, media_type=media_type, headers=headers)


B = TypeVar("B")


async def first_read(batches: AsyncIterator[B]) -> AsyncIterator[B]:
    """``batches`` with its first batch read here, before a response starts: a refusal raised while reading
    it (a problem) is still a problem+json answer; the later batches stream."""
    first = await anext(batches, None)

    async def primed() -> AsyncIterator[B]:
        if first is not None:
            yield first
        async for batch in batches:
            yield batch

    return primed()


async def export_response(
    request: Request,
    export: Export,
    source: Source,
    columns: list[Column],
    name: str,
) -> StreamingResponse:
    """The streamed file of a list: ``source`` gives its items batch by batch (or all at once).

    The first batch is read before the response starts, so a refusal (a problem) is still a proper
    problem+json answer; later batches stream.
    """
    batches = await first_read(_batches(request, source))
    body: AsyncIterator[bytes]
    if export.format == ExportFormat.csv:
        body = _csv(batches, columns, export.charset)
    elif export.format == ExportFormat.ndjson:
        body = _ndjson(batches)
    else:
        body = _xlsx(batches, columns, name)
    return file_stream(body, export.media_type, f"{name}.{export.format.value}", vary_accept=True)


def crlf_records(chunk: bytes, quoted: bool) -> tuple[bytes, bool]:
    """PostgreSQL's CSV ends records with ``\n``, Python's ``csv`` (and RFC 4180) with ``\r\n``: the chunk with
    every record end outside quotes made ``\r\n`` (a newline inside a quoted cell stays as it is), and whether
    the chunk ends inside quotes. A ``"`` toggles quoting (a doubled one toggles twice); in UTF-8 and GB18030
    the bytes ``"`` and ``\n`` are never part of another character."""
    parts = chunk.split(b'"')
    first = 1 if quoted else 0  # the parts outside quotes
    parts[first::2] = [part.replace(b"\n", b"\r\n") for part in parts[first::2]]
    return b'"'.join(parts), quoted ^ (len(parts) % 2 == 0)


async def _copied(request: Request, statement: Select[Any], chunks: asyncio.Queue[bytes | Exception | None]) -> None:
    """Run ``COPY (statement) TO STDOUT (FORMAT csv)`` in a read transaction of its own under DateStyle ISO (a
    date cast to text is ``YYYY-MM-DD``, as ``date.isoformat``), each chunk PostgreSQL sends put on ``chunks``
    (bounded: the copy waits while the response is behind), then ``None``."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    try:
        async with maker() as session:
            connection = await session.connection()
            await connection.execute(sql_text("SET LOCAL DateStyle = 'ISO, YMD'"))  # dates as date.isoformat()
            compiled = statement.compile(dialect=connection.dialect)
            params = compiled.construct_params()
            args = [params[name] for name in compiled.positiontup or ()]
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection

            async def put(chunk: bytes) -> None:
                await chunks.put(chunk)

            await driver.copy_from_query(str(compiled), *args, output=put, format="csv")
            await session.commit()
        await chunks.put(None)
    except asyncio.CancelledError:  # the response is gone
        raise
    except Exception as error:  # handed to the response, which raises it (it cancels this put when gone)
        await chunks.put(error)


async def copy_csv_response(
    request: Request, export: Export, statement: Select[Any], columns: list[Column], name: str
) -> StreamingResponse:
    """A CSV export rendered by PostgreSQL (issue #16): ``statement`` selects one text cell per column of
    ``columns`` (NULL for an empty cell) and is streamed with ``COPY … TO STDOUT`` chunk by chunk, the record
    ends made ``\r\n``, under the same header, byte-order mark and character set as the Python rendering
    (:func:`_csv`), so the bytes are the same. Memory stays flat: at most a few chunks are held."""
    assert export.format == ExportFormat.csv
    chunks: asyncio.Queue[bytes | Exception | None] = asyncio.Queue(maxsize=4)
    copying = asyncio.create_task(_copied(request, statement, chunks))

    async def next_chunk() -> bytes | None:
        chunk = await chunks.get()
        if isinstance(chunk, Exception):
            await asyncio.gather(copying, return_exceptions=True)
            raise chunk
        return chunk

    try:
        first = await next_chunk()  # a failure before the first row is still a problem answer
    except BaseException:
        copying.cancel()
        raise

    async def body() -> AsyncIterator[bytes]:
        bom = "\ufeff" if export.charset == Charset.utf8 else ""
        decoder = codecs.getincrementaldecoder("utf-8")() if export.charset != Charset.utf8 else None
        head = (bom + _csv_text([[c.header for c in columns]])).encode(export.charset.value)
        quoted = False
        chunk = first
        try:
            while chunk is not None:
                data, quoted = crlf_records(chunk, quoted)
                if decoder is not None:  # GB18030 by Python's codec, as the Python rendering encodes
                    data = decoder.decode(data).encode(export.charset.value)
                yield (head + data) if head else data
                head = b""
                chunk = await next_chunk()
            if head:
                yield head
        finally:
            if not copying.done():
                copying.cancel()
            await asyncio.gather(copying, return_exceptions=True)

    return file_stream(body(), export.media_type, f"{name}.{export.format.value}", vary_accept=True)


async def xlsx_rows_response(
    request: Request, export: Export, statement: Select[Any], columns: list[Column], name: str
) -> StreamingResponse:
    """An .xlsx export of rows PostgreSQL renders (issue #16): ``statement`` selects one cell per column of
    ``columns``, typed as the JSON values are (text, a boolean, an integer; NULL for none), read through a
    server-side cursor in one read transaction under DateStyle ISO, ``EXPORT_BATCH`` rows at a time: no ORM
    rows, no models."""
    assert export.format == ExportFormat.xlsx
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker

    async def batches() -> AsyncIterator[Iterable[Sequence[Any]]]:
        async with maker() as session:
            await session.execute(sql_text("SET LOCAL DateStyle = 'ISO, YMD'"))
            result = await session.stream(statement.execution_options(yield_per=EXPORT_BATCH))
            async for rows in result.partitions(EXPORT_BATCH):
                yield rows

    return file_stream(
        xlsx_stream(batches(), [[column.header for column in columns]], name),
        export.media_type,
        f"{name}.{export.format.value}",
        vary_accept=True,
    )


@functools.cache
def _columns(model: type[BaseModel]) -> list[Column]:
    return columns_of(model)


T = TypeVar("T", bound=BaseModel)
PageFunction = Callable[[AsyncSession, str | None, int], Awaitable[Page[Any]]]


async def exported(
    request: Request, export: Export | None, items: list[T], model: type[BaseModel], name: str
) -> list[T] | StreamingResponse:
    """A whole list as the JSON answer, or as the file asked for (one line in a list operation)."""
    if export is None:
        return items
    return await export_response(request, export, items, _columns(model), name)


async def exported_pages(
    request: Request, export: Export, page: PageFunction, model: type[BaseModel], name: str
) -> StreamingResponse:
    """A keyset-paged list as a file: ``page(session, cursor, limit)`` is the JSON list's own page function,
    called batch after batch (so the file holds exactly the pages' rows, scope and filters)."""

    async def source(session: AsyncSession, cursor: str | None) -> tuple[Sequence[BaseModel], str | None]:
        batch = await page(session, cursor, EXPORT_BATCH)
        return batch.items, batch.next_cursor

    return await export_response(request, export, source, _columns(model), name)


async def page_or_file(
    request: Request,
    export: Export | None,
    session: AsyncSession,
    cursor: str | None,
    limit: int,
    page: PageFunction,
    model: type[BaseModel],
    name: str,
) -> Any:
    """A keyset-paged list operation's answer: the page asked for, or the whole list as the file asked for."""
    if export is not None:
        return await exported_pages(request, export, page, model, name)
    return await page(session, cursor, limit)
