"""Assessment score import (issue #13, E1, E2): one row per worker and rater group of a year's township
assessment. Each row is checked by the API's own request model (``ScoreIn``: a rater group of E2, a
score of 0–100 with two decimals, a panel size, a share of ordinary residents), then here as
``POST /v1/cycles/{id}/scores`` checks its entries: the worker's township has that year's cycle open
(E1), the worker is on its roll, in the job's region and one the caller may write for (and, when given,
the name matches). Loaded with the API's upsert (``assessments.store_scores``): a score entered again
replaces the earlier one, as in the API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.assessments import score_row, store_scores
from services.evaluation.models import Cycle, WorkerProjection
from services.evaluation.schemas import ENUM_LABELS, ScoreIn
from shared.auth import Principal
from shared.import_rows import LAYOUT_NOTE, cell_text, cell_value, repeated, validated
from shared.projections import NOT_ON_ROLL
from shared.regions import contains
from shared.scoping import WRITE_ROLES, sees_region
from shared.spreadsheets import Cell, CellProblem, Checked, SheetColumn

GROUPS = {str(k): v for k, v in ENUM_LABELS["rater_group"].items()}
SAME_ROW = ("社工与评价主体", "worker and rater group")  # what makes two rows of a file one
COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("year", "年度", "int", required=True, width=8),
    SheetColumn("worker_id", "社工编号", "text", required=True, width=38),
    SheetColumn("name", "姓名", "text", width=10),
    SheetColumn("rater_group", "评价主体", "choice", tuple(GROUPS.values()), required=True, width=16),
    SheetColumn("score", "得分", "number", required=True, width=8),
    SheetColumn("panel_size", "评价人数", "int", width=10),
    SheetColumn("ordinary_share", "普通居民占比", "number", width=12),
)
NOTES = (
    "考核评分导入模板 assessment score import template (issue #13, E1, E2): one row per worker and rater group.",
    LAYOUT_NOTE,
    "年度: the township's assessment of that year must be open (E1). 社工编号: the worker's id.",
    "评价主体 from the list (E2); 得分 0–100, two decimals; 评价人数 and 普通居民占比 (0–1) for resident panels.",
    "A score entered again for the same worker and group replaces the earlier one (as the API does).",
)
RULES = {"rater_group": "E2", "score": "E2", "panel_size": "E2", "ordinary_share": "E2", "year": "E1"}


@dataclass(frozen=True)
class ScoreRow:
    line: int
    year: int
    entry: ScoreIn
    name: str | None


@dataclass(frozen=True)
class GoodScore:
    """A good score with its open cycle and who uploaded it."""

    cycle_id: uuid.UUID
    entry: ScoreIn
    by: str


def _column(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc else "worker_id"


def read_row(line: int, cells: Mapping[str, Cell], today: date) -> tuple[ScoreRow | None, list[CellProblem]]:
    """A sheet row as a score, or every bad cell in it (the API's checks)."""
    del today
    problems: list[CellProblem] = []
    year_text = cell_text(cells.get("year"))
    year = int(year_text) if year_text.isdigit() else None
    if year is None or not 2000 <= year <= 2100:
        problems.append(CellProblem("year", year_text, "年度应为 2000–2100", "the year must be 2000–2100", "E1"))
    group = cell_value(cells.get("rater_group"))
    body: dict[str, Any] = {
        "worker_id": cell_value(cells.get("worker_id")),
        "rater_group": next((code for code, label in GROUPS.items() if group in (code, label)), group),
        "score": cell_value(cells.get("score")),
        "panel_size": cell_value(cells.get("panel_size")),
        "ordinary_share": cell_value(cells.get("ordinary_share")),
    }
    model, refused = validated(
        ScoreIn, {k: v for k, v in body.items() if v is not None}, cells, column_of=_column, rules=RULES
    )
    problems.extend(refused)
    if model is None or year is None or problems:
        return None, problems
    return ScoreRow(line, year, model, cell_text(cells.get("name")) or None), []


async def check_rows(
    session: AsyncSession, principal: Principal, region: str, rows: Sequence[ScoreRow], secret: bytes, today: date
) -> Checked:
    """Each score's worker on the roll of the job's region and writable by the caller, named as written,
    in a township whose cycle of the year is open (E1, locked until the load ends, as the API locks it);
    a worker and group twice in a year's file is refused the second time."""
    del secret, today
    checked = Checked()
    ids = list({r.entry.worker_id for r in rows})
    workers: dict[uuid.UUID, tuple[str, str]] = {}
    for start in range(0, len(ids), 5000):
        found = await session.execute(
            select(WorkerProjection.worker_id, WorkerProjection.name, WorkerProjection.community_code).where(
                WorkerProjection.worker_id.in_(ids[start : start + 5000]), WorkerProjection.status.not_in(NOT_ON_ROLL)
            )
        )
        workers |= {w: (name, community) for w, name, community in found}
    wanted = list({(c[:9] + "000", r.year) for r in rows if (c := workers.get(r.entry.worker_id, ("", ""))[1])})
    cycles: dict[tuple[str, int], Cycle] = {}
    if wanted:
        found_cycles = await session.scalars(
            select(Cycle).where(tuple_(Cycle.township_code, Cycle.year).in_(wanted)).with_for_update()
        )
        cycles = {(c.township_code, c.year): c for c in found_cycles}
    first: dict[tuple[int, uuid.UUID, str], int] = {}
    for row in rows:
        entry = row.entry
        known = workers.get(entry.worker_id)
        key = (row.year, entry.worker_id, entry.rater_group.value)
        cycle = cycles.get((known[1][:9] + "000", row.year)) if known else None
        if known is None or not contains(region, known[1]) or not sees_region(principal, known[1], WRITE_ROLES):
            problem = CellProblem(
                "worker_id", str(entry.worker_id), "本辖区内没有这名在册社工", "no such worker on the caller's roll"
            )
        elif row.name is not None and row.name != known[0]:
            problem = CellProblem("name", row.name, "姓名与社工编号不符", "the name is not that worker's")
        elif cycle is None or cycle.status != "open":
            problem = CellProblem(
                "year",
                str(row.year),
                f"该社工所在乡镇 {row.year} 年考核未开启或已关闭",
                f"the worker's township has no open {row.year} assessment",
                "E1",
            )
        elif key in first:
            problem = repeated("rater_group", GROUPS[entry.rater_group.value], first[key], SAME_ROW, "E2")
        else:
            first[key] = row.line
            checked.good.append(GoodScore(cycle.id, entry, principal.subject))
            continue
        checked.refuse(row.line, problem)
    return checked


async def load(session: AsyncSession, good: Sequence[GoodScore], today: date) -> int:
    """The scores with the API's upsert (multi-row statements)."""
    del today
    now = datetime.now(UTC)
    return await store_scores(session, [score_row(g.cycle_id, g.entry, g.by, now) for g in good])
