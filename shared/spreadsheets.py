"""Spreadsheets in and out (issue #13, imports): templates with Chinese headers, the English name in a
second header row, dropdowns for code lists and text-formatted code columns; reading an uploaded
``.xlsx`` or ``.csv`` (UTF-8 with or without BOM, or GB18030 as Excel in China writes it); and the
uploaded file handed back with its bad cells marked (fill colour and a comment with the reason).

A sheet's first row holds the Chinese headers and its second the English names; data start on row 3.
A file whose second row is not the English names (a CSV someone typed) has its data from row 2.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

Cell = str | int | float | bool | date | datetime | None
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
TEXT_FORMAT = "@"  # Excel's text format: an 18-digit ID number stays 18 digits
DATE_FORMAT = "yyyy-mm-dd"
BAD_FILL = PatternFill(start_color="FFFFC7CE", end_color="FFFFC7CE", fill_type="solid")
HEADER_FILL = PatternFill(start_color="FFDDEBF7", end_color="FFDDEBF7", fill_type="solid")
MAX_TEMPLATE_ROWS = 10_000  # rows the template's dropdowns and formats cover


@dataclass(frozen=True)
class CellProblem:
    """One bad cell: the column's key, the value as written, the reason in both languages, the rule id."""

    column: str
    value: str
    zh: str
    en: str
    rule: str | None = None


@dataclass
class Checked:
    """The rows that passed every check, and the bad cells by sheet row."""

    good: list[Any] = field(default_factory=list)
    problems: dict[int, list[CellProblem]] = field(default_factory=dict)

    def refuse(self, line: int, problem: CellProblem) -> None:
        self.problems.setdefault(line, []).append(problem)


class UnreadableFile(ValueError):
    """The upload is neither a readable workbook nor a CSV in a known encoding."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class SheetColumn:
    """One column of an import format: its key, Chinese header, and how Excel shows it."""

    key: str
    zh: str
    kind: str = "text"  # text | date | int | number | bool | choice
    choices: tuple[str, ...] = ()
    required: bool = False
    width: int = 14

    @property
    def en(self) -> str:
        """The English header (a template's second row): the key, the name the API gives the field."""
        return self.key


@dataclass
class Table:
    """An uploaded sheet: the header of each column as written, and each data row with its sheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


def _decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (Excel's 'CSV' in a Chinese locale); else refused."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("CSV 编码无法识别（应为 UTF-8 或 GB18030）", "CSV encoding not UTF-8 or GB18030") from exc


def _cell(value: Any) -> Cell:
    """A workbook value as one of the kinds rows hold (formulas' cached values; rich text as text)."""
    if value is None or isinstance(value, str | int | float | bool | date):
        return value
    return str(value)


def is_xlsx(content: bytes) -> bool:
    return content[:4] == b"PK\x03\x04"


def read_table(content: bytes, columns: Sequence[SheetColumn]) -> Table:
    """The first sheet of an ``.xlsx``, or a CSV, as header texts and data rows (the English row skipped)."""
    english = [c.en for c in columns]
    if is_xlsx(content):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise UnreadableFile("无法读取 Excel 文件", "not a readable .xlsx workbook") from exc
        sheet = book.worksheets[0]
        raw: list[list[Cell]] = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        text = _decode(content)
        raw = list(csv.reader(io.StringIO(text)))  # type: ignore[arg-type]  # rows of str: cells
    if not raw:
        raise UnreadableFile("文件为空", "the file is empty")
    headers = [str(h).strip() if h is not None else "" for h in raw[0]]
    start = 1
    if (
        len(raw) > 1
        and [str(v).strip() if v is not None else "" for v in raw[1][: len(english)]] == english[: len(raw[1])]
    ):
        start = 2
    table = Table(headers=headers)
    for index, values in enumerate(raw[start:], start=start + 1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # blank lines are not rows
        table.rows.append((index, values))
    return table


def column_index(headers: Sequence[str], column: SheetColumn) -> int | None:
    """Where ``column`` is in the uploaded headers (by its Chinese header or English name), else None."""
    for i, header in enumerate(headers):
        if header in (column.zh, column.key):
            return i
    return None


def template(columns: Sequence[SheetColumn], title: str, notes: Iterable[str] = ()) -> bytes:
    """An empty workbook of the format: two header rows, dropdowns, text and date formats, notes on sheet 2."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        zh = sheet.cell(row=1, column=i, value=column.zh)
        zh.font = Font(bold=True, color="FFC00000" if column.required else "FF000000")
        zh.fill = HEADER_FILL
        zh.comment = Comment(f"{column.en}{'（必填 required）' if column.required else ''}", "shegong")
        sheet.cell(row=2, column=i, value=column.en).font = Font(italic=True, color="FF808080")
        sheet.column_dimensions[letter].width = column.width
        cells = f"{letter}3:{letter}{MAX_TEMPLATE_ROWS}"
        if column.kind == "choice" and column.choices:
            listed = DataValidation(type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True)
            listed.error = "请从下拉列表选择 choose from the list"
            sheet.add_data_validation(listed)
            listed.add(cells)
        if column.kind in ("text", "choice"):
            for row in range(3, 203):  # the first rows formatted as text; Excel keeps the format when typing
                sheet.cell(row=row, column=i).number_format = TEXT_FORMAT
        if column.kind == "date":
            for row in range(3, 203):
                sheet.cell(row=row, column=i).number_format = DATE_FORMAT
    sheet.freeze_panes = "A3"
    info = book.create_sheet("说明 notes")
    for r, line in enumerate(notes, start=1):
        info.cell(row=r, column=1, value=line)
    return _save(book)


def workbook(columns: Sequence[SheetColumn], title: str, rows: Iterable[Sequence[Cell]]) -> bytes:
    """A filled workbook in the format (an export): the two header rows, then ``rows``; codes as text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append([c.zh for c in columns])
    sheet.append([c.en for c in columns])
    for row in rows:
        sheet.append(list(row))
    return _save(book)


def csv_bytes(columns: Sequence[SheetColumn], rows: Iterable[Sequence[Cell]]) -> bytes:
    """The same as CSV, UTF-8 with a BOM (so that Excel opens it as UTF-8)."""
    return csv_head(columns) + csv_lines(rows)


def csv_head(columns: Sequence[SheetColumn]) -> bytes:
    """A CSV's start: the byte-order mark and the two header rows (a streamed export writes it first)."""
    return b"\xef\xbb\xbf" + csv_lines([[c.zh for c in columns], [c.en for c in columns]])


def csv_lines(rows: Iterable[Sequence[Cell]]) -> bytes:
    """Rows as CSV lines, UTF-8, ``\\r\\n`` after each: empty for None, dates ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row])
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Mark:
    """A bad cell to mark: sheet row, 0-based column index (None: the row's first cell), and the reason."""

    row: int
    column: int | None
    text: str


def marked(content: bytes, marks: Sequence[Mark]) -> bytes:
    """The uploaded workbook (or an ``.xlsx`` of the uploaded CSV) with each bad cell filled and commented.

    A file that cannot be read at all comes back as a workbook listing the reasons on its first row."""
    try:
        book, sheet = _uploaded_sheet(content)
    except (UnreadableFile, ValueError, KeyError, OSError, zipfile.BadZipFile):
        book = Workbook()
        sheet = book.active
        assert sheet is not None
    notes: dict[tuple[int, int], list[str]] = {}
    for mark in marks:
        notes.setdefault((mark.row, (mark.column or 0) + 1), []).append(mark.text)
    for (row, column), texts in notes.items():
        cell = sheet.cell(row=row, column=column)
        cell.fill = BAD_FILL
        cell.comment = Comment(_legal("\n".join(texts)), "shegong")
    return _save(book)


def _legal(text: str) -> str:
    """Without the control characters a workbook cannot hold (they are shown as U+FFFD)."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)


def _uploaded_sheet(content: bytes) -> tuple[Any, Any]:
    if is_xlsx(content):
        book = load_workbook(io.BytesIO(content))
        return book, book.worksheets[0]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values in csv.reader(io.StringIO(_decode(content))):
        sheet.append([_legal(v) for v in values])
    return book, sheet


def _save(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
