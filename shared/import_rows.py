"""A spreadsheet row checked by the API's own request model (issue #13): the cells go through the same
pydantic model the endpoint validates its body with, so a cell is refused exactly when the same value
would be refused in a request; each validation error becomes a bad cell, in Chinese and English, with
the rule id its column cites."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from shared.spreadsheets import Cell, CellProblem

M = TypeVar("M", bound=BaseModel)

LAYOUT_NOTE = (
    "第1行中文表头、第2行英文名，数据从第3行起。Row 1: Chinese headers; row 2: English names; data from row 3."
)
"""The note every import template carries on its layout (``shared.spreadsheets.template``: two header rows)."""

# pydantic's error types in Chinese; the English is pydantic's own message.
_ZH: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "必填",
    "string_too_long": "过长（至多 {max_length} 字）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "decimal_max_places": "小数位数过多（至多 {decimal_places} 位）",
    "decimal_max_digits": "位数过多",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_type": "应为整数",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期，不含时间",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "uuid_parsing": "应为编号（UUID）",
    "uuid_type": "应为编号（UUID）",
    "enum": "应为下拉列表中的一项",
    "literal_error": "应为下拉列表中的一项",
}


def repeated(column: str, value: str, line: int, same: tuple[str, str], rule: str | None = None) -> CellProblem:
    """A row repeating row ``line`` of the same file (each import refuses the second): ``same`` says, in
    Chinese and English, what makes two rows one (e.g. 社工与评价主体 / worker and rater group)."""
    zh, en = same
    return CellProblem(column, value, f"与第 {line} 行重复（同一{zh}）", f"the same {en} as row {line}", rule)


def cell_text(value: Cell) -> str:
    """A cell as the text a person sees (an Excel date as ISO, a whole float without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_value(value: Cell) -> Any:
    """A cell as a request would carry it: blank is absent (None), text stripped, an Excel number as a
    decimal (exact, as JSON carries it), an Excel date or midnight date-time as a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        try:
            return int(value) if value.is_integer() else Decimal(repr(value))
        except (InvalidOperation, ValueError):
            return value
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def _zh(error: ErrorDetails) -> str:
    template = _ZH.get(error["type"], "不符合要求")
    context = error.get("ctx") or {}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template


def validated(
    model: type[M],
    body: Mapping[str, Any],
    cells: Mapping[str, Cell],
    *,
    column_of: Callable[[tuple[int | str, ...]], str],
    rules: Mapping[str, str],
) -> tuple[M | None, list[CellProblem]]:
    """``body`` (built from ``cells`` with :func:`cell_value`) validated by ``model``: the model, or each
    error as a bad cell of the column ``column_of(loc)`` names, with the rule ``rules`` gives that column."""
    try:
        return model.model_validate(dict(body)), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            column = column_of(tuple(error["loc"]))
            problems.append(
                CellProblem(column, cell_text(cells.get(column)), _zh(error), error["msg"], rules.get(column))
            )
        return None, problems
