"""The regions import format (issue #13): one row per region — code, name, parent, and for communities
their kind and counts (S1–S4). Pure: :func:`read_row` checks each cell with the rules the API applies
(GB/T 2260 codes and their nesting ``shared.regions``, S1 kinds for communities only, S3 extra posts
``domain.staffing``); existence, scope and duplicates are checked in ``regions_import``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.roster.domain.staffing import extra_staff_problem
from services.roster.schemas import ENUM_LABELS
from shared.codes import ascii_code
from shared.import_rows import LAYOUT_NOTE, cell_text
from shared.regions import RegionLevel, child_code_problem, is_region_code, level, official
from shared.spreadsheets import Cell, CellProblem, SheetColumn

KINDS = {str(k): v for k, v in ENUM_LABELS["community_kind"].items()}
LEVELS = {
    "province": "省",
    "city": "市",
    "county": "县（区、市）",
    "township": "乡镇（街道）",
    "community": "社区（村）",
}

COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("code", "区划代码", "text", required=True, width=15),
    SheetColumn("name", "名称", "text", required=True, width=16),
    SheetColumn("parent_code", "上级代码", "text", width=15),
    SheetColumn("level", "层级", "choice", tuple(LEVELS.values()), width=12),
    SheetColumn("kind", "社区类型", "choice", tuple(KINDS.values()), width=12),
    SheetColumn("households", "户数", "int", width=10),
    SheetColumn("population", "人口", "int", width=10),
    SheetColumn("extra_staff", "增配名额", "int", width=10),
    SheetColumn("extra_staff_approval", "增配审批文件", "text", width=20),
)
NOTES = (
    "区划导入模板 regions import template (issue #13): one row per region, parents before or after children.",
    LAYOUT_NOTE,
    "区划代码: 6 digits to county (GB/T 2260), 12 below; a child's code extends its parent's.",
    "社区类型 for communities only (S1–S4); 增配名额 only for 商住/老旧 communities, with the approval (S3).",
    "层级 is informational: the level follows from the code.",
)


@dataclass(frozen=True)
class RegionRow:
    line: int
    code: str
    name: str
    parent_code: str | None
    level: str
    kind: str | None
    households: int
    population: int
    extra_staff: int
    extra_staff_approval: str | None

    def event(self) -> dict[str, object]:
        """``region.created`` as the API writes it (the request body)."""
        return {
            "code": self.code,
            "name": self.name,
            "parent_code": self.parent_code,
            "kind": self.kind,
            "households": self.households,
            "population": self.population,
            "extra_staff": self.extra_staff,
            "extra_staff_approval": self.extra_staff_approval,
        }


def read_row(line: int, cells: Mapping[str, Cell], today: date) -> tuple[RegionRow | None, list[CellProblem]]:
    """A sheet row as a region, or every bad cell in it."""
    del today  # regions have no dates
    problems: list[CellProblem] = []
    texts = {c.key: cell_text(cells.get(c.key)) for c in COLUMNS}

    def bad(key: str, zh: str, en: str, rule: str | None = None) -> None:
        problems.append(CellProblem(key, texts[key], zh, en, rule))

    def code_of(key: str) -> str | None:
        raw = ascii_code(texts[key])
        if not raw:
            return None
        if not is_region_code(raw):
            bad(key, "应为6位或12位区划代码（GB/T 2260）", "a region code has 6 or 12 digits (GB/T 2260)")
            return None
        return official(raw)

    def count(key: str, limit: int) -> int:
        if not texts[key]:
            return 0
        try:
            value = int(texts[key])
        except ValueError:
            bad(key, "应为整数", "must be a whole number")
            return 0
        if not 0 <= value <= limit:
            bad(key, f"应为 0–{limit}", f"must be 0–{limit}")
        return value

    code = code_of("code")
    if not texts["code"]:
        bad("code", "必填", "required")
    name = texts["name"]
    if not name:
        bad("name", "必填", "required")
    elif len(name) > 100:
        bad("name", "名称过长（至多100字）", "at most 100 characters")
    parent = code_of("parent_code")
    region_level = level(code) if code else None
    if code and region_level != RegionLevel.province and parent is None and not texts["parent_code"]:
        bad("parent_code", "须指定上级区划", "a parent is required below province level")
    if code and parent:
        problem = child_code_problem(parent, code)  # GB/T 2260: a child's code extends its parent's
        if problem is not None:
            bad("code", problem.zh, problem.en)
    kind = None
    if texts["kind"]:
        kind = next((k for k, label in KINDS.items() if texts["kind"] in (k, label)), None)
        if kind is None:
            bad("kind", "应为：" + "、".join(KINDS.values()), "must be one of: " + ", ".join(KINDS), "S1")
    if region_level is not None and (region_level == RegionLevel.community) != bool(texts["kind"]):
        bad("kind", "社区须填类型，其他层级不填", "a community needs a kind; other levels have none", "S1")
    households = count("households", 10_000_000)
    population = count("population", 100_000_000)
    extra = count("extra_staff", 50)
    approval = texts["extra_staff_approval"] or None
    violation = extra_staff_problem(kind, extra, approval)  # S3, as the API checks it
    if violation is not None:
        bad(violation.field, violation.zh, violation.en, violation.rule)
    if problems or code is None or region_level is None:
        return None, problems
    return (
        RegionRow(line, code, name, parent, region_level.value, kind, households, population, extra, approval),
        [],
    )
