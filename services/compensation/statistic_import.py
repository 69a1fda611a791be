"""Reference statistics import (issue #13, C2, C3): one row per region, year and statistic. Each row is
checked with the types of ``PUT /v1/reference-statistics/{region_code}/{year}/{kind}`` (a GB/T 2260
region code, a year 2000–2100, a statistic kind, and the API's own body ``StatisticIn``: a positive
amount exact to the cent, a source), then here as the API authorises it: a region inside the job's, of
which the caller is an administrator (county and above). Loaded with the API's upsert
(``statistics.store_statistics``): a statistic set again replaces the earlier one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.schemas import ENUM_LABELS, StatisticIn, StatisticKind
from services.compensation.statistics import RULE, Statistic, store_statistics
from shared.auth import Principal
from shared.import_rows import LAYOUT_NOTE, cell_value, repeated, validated
from shared.inputs import Year
from shared.regions import RegionCode, contains
from shared.scoping import ADMIN_WRITE_ROLES, sees_region
from shared.spreadsheets import Cell, CellProblem, Checked, SheetColumn

KINDS = {str(k): v for k, v in ENUM_LABELS["statistic_kind"].items()}
SAME_ROW = ("区划、年度与指标", "region, year and statistic")  # what makes two rows of a file one
COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("region_code", "区划代码", "text", required=True, width=15),
    SheetColumn("year", "年度", "int", required=True, width=8),
    SheetColumn("kind", "指标", "choice", tuple(KINDS.values()), required=True, width=30),
    SheetColumn("value", "数值（元）", "number", required=True, width=14),
    SheetColumn("source", "来源", "text", required=True, width=36),
)
NOTES = (
    "统计数据导入模板 reference statistics import template (issue #13, C2, C3): one row per region, year, statistic.",
    LAYOUT_NOTE,
    "区划代码: 6 or 12 digits (GB/T 2260), a region you administer (county and above).",
    "指标 from the list: 城镇常住居民人均可支配收入 (C2), 全社会单位就业人员年平均工资 (C3),",
    "  社区工作者上年实际平均工资 (C2).",
    "数值: yuan, over 0, at most two decimals. 来源: the statistical bulletin. Set again: replaced.",
)


class StatisticRow(StatisticIn):
    """A statistic as the API takes it: the path's region, year and kind, and its body."""

    region_code: RegionCode
    year: Year
    kind: StatisticKind


def _column(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc else "region_code"


def read_row(
    line: int, cells: Mapping[str, Cell], today: date
) -> tuple[tuple[int, Statistic] | None, list[CellProblem]]:
    """A sheet row (its line and its statistic), or every bad cell in it (the API's checks; the rule of
    its kind)."""
    del today
    kind = cell_value(cells.get("kind"))
    code = next((k for k, label in KINDS.items() if kind in (k, label)), kind)
    body: dict[str, Any] = {key: cell_value(cells.get(key)) for key in ("region_code", "year", "value", "source")}
    body["kind"] = code
    if isinstance(body["region_code"], int):
        body["region_code"] = str(body["region_code"])  # a code Excel kept as a number
    rule = RULE.get(StatisticKind(code), "C2") if code in KINDS else "C2"
    rules = {"value": rule, "kind": rule, "year": rule, "region_code": rule}
    model, problems = validated(
        StatisticRow, {k: v for k, v in body.items() if v is not None}, cells, column_of=_column, rules=rules
    )
    if model is None:
        return None, problems
    return (line, Statistic(model.region_code, model.year, model.kind, model.value, model.source)), []


async def check_rows(
    session: AsyncSession,
    principal: Principal,
    region: str,
    rows: Sequence[tuple[int, Statistic]],
    secret: bytes,
    today: date,
) -> Checked:
    """Each statistic in the job's region and one the caller administers; one per region, year and kind."""
    del session, secret, today
    checked = Checked()
    first: dict[tuple[str, int, str], int] = {}
    for line, row in rows:
        key = (row.region_code, row.year, row.kind.value)
        if not contains(region, row.region_code) or not sees_region(principal, row.region_code, ADMIN_WRITE_ROLES):
            problem = CellProblem(
                "region_code",
                row.region_code,
                "不在您可维护的区划范围内（县级及以上管理员）",
                "outside the regions you administer (county and above)",
                RULE[row.kind],
            )
        elif key in first:
            problem = repeated("kind", KINDS[row.kind.value], first[key], SAME_ROW, RULE[row.kind])
        else:
            first[key] = line
            checked.good.append(row)
            continue
        checked.refuse(line, problem)
    return checked


async def load(session: AsyncSession, good: Sequence[Statistic], today: date) -> int:
    """The statistics with the API's upsert (multi-row statements)."""
    del today
    return await store_statistics(session, good)
