"""The workforce import and export format (issue #13): one row per worker as they are today — the person,
their community, hire and leave dates, current post and grade, current contract, certificate.

Pure (no I/O): :func:`read_row` turns a sheet row into a :class:`WorkforceRow` or the list of its bad
cells. Each cell is checked with the rules the API applies (the same functions: GB 11643 ID numbers
``domain.id_numbers``, working age ``domain.working_age``, C4 grade ranges ``domain.posts``); the checks
that need the database (community and scope, one person one record, S5 quota, P2/P3 holders) are in
``workforce_import``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.roster.domain.id_numbers import InvalidIdNumber, ResidentId, parse_id_number
from services.roster.domain.posts import grade_violation
from services.roster.domain.working_age import birth_date_problem, working_age_problem
from services.roster.schemas import ENUM_LABELS
from shared.codes import ascii_code
from shared.import_rows import LAYOUT_NOTE, cell_text
from shared.spreadsheets import Cell, CellProblem, SheetColumn
from shared.vocabulary import GRADE_RANGES

SEX_LABELS = {"male": "男", "female": "女"}
STATUS_LABELS = {k: v for k, v in ENUM_LABELS["worker_status"].items() if k != "on_loan"}
YES, NO = "是", "否"
DUTY_SEPARATOR = "、"


def _labels(name: str) -> dict[str, str]:
    return {str(k): v for k, v in ENUM_LABELS[name].items()}


CHOICES: dict[str, dict[str, str]] = {
    "sex": SEX_LABELS,
    "education": _labels("education"),
    "political_status": _labels("political_status"),
    "status": {str(k): v for k, v in STATUS_LABELS.items()},
    "post": _labels("post"),
    "certificate_level": _labels("certificate_level"),
}
DUTIES = _labels("duty")


def _choice(key: str, zh: str, **kw: object) -> SheetColumn:
    return SheetColumn(key, zh, "choice", tuple(CHOICES[key].values()), **kw)  # type: ignore[arg-type]


def _flag(key: str, zh: str) -> SheetColumn:
    return SheetColumn(key, zh, "choice", (YES, NO), width=12)


COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("id_number", "身份证号", "text", required=True, width=22),
    SheetColumn("name", "姓名", "text", required=True, width=10),
    _choice("sex", "性别", width=6),
    SheetColumn("phone", "手机号", "text", width=14),
    _choice("education", "学历", width=12),
    _choice("political_status", "政治面貌", width=12),
    SheetColumn("community_code", "社区代码", "text", required=True, width=15),
    SheetColumn("community_name", "社区名称", "text", width=14),
    SheetColumn("hire_date", "入职日期", "date", required=True, width=12),
    SheetColumn("left_date", "离职日期", "date", width=12),
    _choice("status", "人员状态", width=10),
    _flag("lives_in_community", "居住本社区"),
    _flag("generalist", "全科社工"),
    _flag("grid_duties", "兼任网格员"),
    _choice("post", "岗位", width=10),
    SheetColumn("grade", "岗位等级", "int", width=10),
    SheetColumn("post_start_date", "任职日期", "date", width=12),
    SheetColumn("approval", "正职审批文件", "text", width=18),
    SheetColumn("duties", "岗位职责", "text", width=24),
    SheetColumn("contract_start", "合同起始日期", "date", width=12),
    _choice("certificate_level", "社工职业资格", width=14),
    SheetColumn("certificate_date", "取证日期", "date", width=12),
)
BY_KEY = {c.key: c for c in COLUMNS}
NOTES = (
    "社区工作者导入模板 workforce import template (issue #13): one row per worker as they are today.",
    LAYOUT_NOTE,
    "日期格式 dates: YYYY-MM-DD (or an Excel date). 身份证号、社区代码 are text (18 / 12 digits).",
    "离职日期 is inclusive, the last day worked (C6). 人员状态, when given, must agree with the dates (H4).",
    f"岗位等级 C4 ranges: 正职 {GRADE_RANGES['chief']}, 副职 {GRADE_RANGES['deputy']}, "
    f"工作人员 {GRADE_RANGES['staff']}. 第二名正职须填审批文件 (P2); 副职至多 2 名 (P3).",
    "岗位职责 (P4): " + DUTY_SEPARATOR.join(DUTIES.values()) + "，以“、”分隔 separated by 、",
    "合同起始日期 the current contract's first day (H3: one year from it).",
)


@dataclass(frozen=True, slots=True)
class WorkforceRow:
    line: int
    resident: ResidentId
    name: str
    phone: str | None
    education: str | None
    political_status: str | None
    community_code: str
    hire_date: date
    left_date: date | None
    status: str | None
    lives_in_community: bool
    generalist: bool
    grid_duties: bool
    post: str | None
    grade: int | None
    post_start_date: date | None
    approval: str | None
    duties: tuple[str, ...]
    contract_start: date | None
    certificate_level: str | None
    certificate_date: date | None


__all__ = ["COLUMNS", "NOTES", "CellProblem", "read_row"]  # CellProblem re-exported: the readers name it here


class _Bad(ValueError):
    def __init__(self, zh: str, en: str, rule: str | None = None) -> None:
        super().__init__(en)
        self.zh, self.en, self.rule = zh, en, rule


_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")


def parse_date(value: Cell) -> date:
    """An Excel date, or ``YYYY-MM-DD`` / ``YYYY/M/D`` text; anything else is refused (not guessed)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(ascii_code(str(value)))
    if match is None:
        raise _Bad("日期格式应为 YYYY-MM-DD", "a date is written YYYY-MM-DD")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _Bad("不是有效日期", "not a calendar date") from None


def _code(key: str, text: str) -> str:
    labels = CHOICES[key]
    for code, label in labels.items():
        if text in (code, label):
            return code
    allowed = "、".join(labels.values())
    raise _Bad(f"应为：{allowed}", f"must be one of: {', '.join(labels)}")


def _flag_value(text: str) -> bool:
    if text in ("", NO, "false", "False", "FALSE", "0", "N", "n"):
        return False
    if text in (YES, "true", "True", "TRUE", "1", "Y", "y"):
        return True
    raise _Bad("应为“是”或“否”", "must be 是 (yes) or 否 (no)")


def _duties(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in re.split(r"[、,，;；]", text):
        part = part.strip()
        if not part:
            continue
        code = next((c for c, label in DUTIES.items() if part in (c, label)), None)
        if code is None:
            raise _Bad(f"未知岗位职责“{part}”", f"unknown duty area {part!r}", "P4")
        if code not in out:
            out.append(code)
    return tuple(out)


def read_row(line: int, cells: Mapping[str, Cell], today: date) -> tuple[WorkforceRow | None, list[CellProblem]]:
    """A sheet row (cells by column key) as a worker, or every bad cell in it."""
    problems: list[CellProblem] = []
    texts = {key: value.strip() if isinstance(value := cells.get(key), str) else cell_text(value) for key in BY_KEY}

    def bad(key: str, exc: _Bad) -> None:
        problems.append(CellProblem(key, texts[key], exc.zh, exc.en, exc.rule))

    def required(key: str) -> bool:
        if texts[key]:
            return True
        problems.append(CellProblem(key, "", "必填", "required"))
        return False

    def optional_date(key: str) -> date | None:
        if not texts[key]:
            return None
        try:
            return parse_date(cells[key])
        except _Bad as exc:
            bad(key, exc)
            return None

    def optional_code(key: str) -> str | None:
        if not texts[key]:
            return None
        try:
            return _code(key, texts[key])
        except _Bad as exc:
            bad(key, exc)
            return None

    def flag(key: str) -> bool:
        try:
            return _flag_value(texts[key])
        except _Bad as exc:
            bad(key, exc)
            return False

    resident: ResidentId | None = None
    if required("id_number"):
        if isinstance(cells.get("id_number"), float):
            bad("id_number", _Bad("身份证号被 Excel 存为数字，末位已丢失：请设为文本", "stored as a number by Excel"))
        else:
            try:
                resident = parse_id_number(texts["id_number"])
            except InvalidIdNumber as exc:
                bad("id_number", _Bad(exc.reason_zh, exc.reason_en, "GB11643"))
    if resident is not None:
        problem = birth_date_problem(resident.birth_date, today)
        if problem is not None:
            bad("id_number", _Bad(problem.zh, problem.en, "GB11643"))
            resident = None
    name = texts["name"]
    if required("name") and len(name) > 50:
        bad("name", _Bad("姓名过长（至多50字）", "at most 50 characters"))
    sex = optional_code("sex")
    if resident is not None and sex is not None and sex != resident.sex:
        bad("sex", _Bad("与身份证号中的性别不符", f"does not agree with the ID number's sex ({resident.sex})"))
    phone = ascii_code(texts["phone"]) or None
    if phone is not None and not re.fullmatch(r"1[0-9]{10}", phone):
        bad("phone", _Bad("手机号应为11位", "a mobile number has 11 digits"))
    education = optional_code("education")
    political = optional_code("political_status")
    community = ascii_code(texts["community_code"])
    if required("community_code") and not re.fullmatch(r"[0-9]{12}", community):
        bad("community_code", _Bad("应为12位社区（村）代码", "must be a 12-digit community code", "S1"))
    hire = optional_date("hire_date") if required("hire_date") else None
    if resident is not None and hire is not None:
        age = working_age_problem(resident.birth_date, resident.sex, hire)
        if age is not None:
            bad("hire_date", _Bad(age.zh, age.en))
    left = optional_date("left_date")
    if hire is not None and left is not None and left < hire:
        bad("left_date", _Bad(f"早于入职日期 {hire}", f"before the hire date {hire}"))
    status = optional_code("status")
    flags = {key: flag(key) for key in ("lives_in_community", "generalist", "grid_duties")}
    post = optional_code("post")
    grade: int | None = None
    if texts["grade"]:
        try:
            grade = int(texts["grade"])
        except ValueError:
            bad("grade", _Bad("等级应为1–18的整数", "a grade is a whole number 1–18", "C4"))
    post_start = optional_date("post_start_date")
    if texts["post"] or texts["grade"] or texts["post_start_date"]:
        for key, value in (("post", post), ("grade", grade), ("post_start_date", post_start)):
            if value is None and not texts[key]:
                problems.append(
                    CellProblem(key, "", "岗位、等级、任职日期须一并填写", "post, grade and start go together")
                )
        if post is not None and grade is not None:
            violation = grade_violation(post, grade)  # C4, as the API checks it
            if violation is not None:
                bad("grade", _Bad(violation.zh, violation.en, violation.rule))
        if post_start is not None and hire is not None and post_start < hire:
            bad("post_start_date", _Bad("早于入职日期", "before the hire date"))
        if post_start is not None and left is not None and post_start > left:
            bad("post_start_date", _Bad(f"晚于离职日期 {left}", f"after the leave date {left}"))
    approval = texts["approval"] or None
    duties: tuple[str, ...] = ()
    try:
        duties = _duties(texts["duties"])
    except _Bad as exc:
        bad("duties", exc)
    contract_start = optional_date("contract_start")
    if contract_start is not None and hire is not None and contract_start < hire:
        bad("contract_start", _Bad("早于入职日期", "before the hire date", "H3"))
    if contract_start is not None and left is not None and contract_start > left:
        bad("contract_start", _Bad(f"晚于离职日期 {left}", f"after the leave date {left}", "H3"))
    certificate = optional_code("certificate_level")
    certificate_date = optional_date("certificate_date")
    if certificate_date is not None and certificate is None:
        bad("certificate_date", _Bad("有取证日期须填证书等级", "a certificate date needs the certificate level", "H7"))
    if problems or resident is None or hire is None:
        return None, problems
    return (
        WorkforceRow(
            line=line,
            resident=resident,
            name=name,
            phone=phone,
            education=education,
            political_status=political,
            community_code=community,
            hire_date=hire,
            left_date=left,
            status=status,
            post=post,
            grade=grade,
            post_start_date=post_start,
            approval=approval,
            duties=duties,
            contract_start=contract_start,
            certificate_level=certificate,
            certificate_date=certificate_date,
            **flags,
        ),
        [],
    )


def label(key: str, code: str | None) -> str | None:
    """The Chinese label the format writes for a code."""
    return None if code is None else CHOICES[key].get(code, code)


def duties_text(duties: Sequence[str]) -> str | None:
    return DUTY_SEPARATOR.join(DUTIES.get(d, d) for d in duties) or None
