"""The workforce format's cell checks (pure): the API's rule functions applied to sheet cells, and the
generator's rows, whatever the seed, all passing them with unique, valid ID numbers."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from deploy import generate
from services.roster.tests.conftest import COMMUNITY_A, id_number
from services.roster.workforce_format import COLUMNS, WorkforceRow, read_row
from shared.spreadsheets import read_table

TODAY = date(2026, 11, 30)
KEYS = [c.key for c in COLUMNS]


def cells(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id_number": id_number(1),
        "name": "张三",
        "community_code": COMMUNITY_A,
        "hire_date": "2019-03-01",
    }
    return base | values


def problems(**values: object) -> list[tuple[str, str | None]]:
    _, found = read_row(3, cells(**values), TODAY)  # type: ignore[arg-type]
    return [(p.column, p.rule) for p in found]


def test_a_good_row_reads_with_codes_from_chinese_labels() -> None:
    excel_date = datetime(2019, 3, 1)  # noqa: DTZ001 - a workbook's dates have no zone
    given = cells(post="副职", grade=4, post_start_date=excel_date, sex="男", duties="党建、社会事务")
    row, found = read_row(3, given, TODAY)  # type: ignore[arg-type]
    assert found == []
    assert isinstance(row, WorkforceRow)
    assert (row.post, row.grade, row.post_start_date, row.duties) == (
        "deputy",
        4,
        date(2019, 3, 1),
        ("party_affairs", "social_affairs"),
    )
    assert row.resident.birth_date == date(1990, 1, 1)


def test_c4_grade_ranges_of_the_documents() -> None:
    # 三岗十八级: chief 7–18, deputy 4–15, staff 1–12 (docs/policy.md, grade ranges per post)
    assert problems(post="正职", grade=6, post_start_date="2019-03-01") == [("grade", "C4")]
    assert problems(post="正职", grade=7, post_start_date="2019-03-01") == []
    assert problems(post="副职", grade=16, post_start_date="2019-03-01") == [("grade", "C4")]
    assert problems(post="工作人员", grade=12, post_start_date="2019-03-01") == []
    assert problems(post="工作人员", grade=13, post_start_date="2019-03-01") == [("grade", "C4")]


def test_id_numbers_dates_and_lists_are_checked_cell_by_cell() -> None:
    good = id_number(2)
    assert problems(id_number=good[:-1] + ("1" if good[-1] == "0" else "0")) == [("id_number", "GB11643")]
    assert problems(id_number=float(good[:-1] + "0")) == [("id_number", None)]  # Excel turned it into a number
    assert problems(hire_date="01/03/2019") == [("hire_date", None)]
    assert problems(hire_date="2019-02-30") == [("hire_date", None)]
    assert problems(hire_date="2019/3/1") == []
    assert problems(left_date="2018-01-01") == [("left_date", None)]
    assert problems(post="主任") == [("post", None), ("grade", None), ("post_start_date", None)]
    assert problems(sex="女") == [("sex", None)]  # the ID number's 17th digit is odd: male
    assert problems(duties="党建、宣传") == [("duties", "P4")]
    assert problems(contract_start="2018-01-01") == [("contract_start", "H3")]
    assert problems(community_code="33030200100") == [("community_code", "S1")]
    assert problems(name="") == [("name", None)]


def test_working_age_on_the_hire_date() -> None:
    # born 1990-01-01: 18 on 2008-01-01 (working_age: 18 or older on the hire date)
    assert problems(hire_date="2007-12-31") == [("hire_date", None)]
    assert problems(hire_date="2008-01-01") == []


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), workers=st.integers(100, 400))
def test_generated_rows_all_pass_with_unique_valid_id_numbers(seed: int, workers: int) -> None:
    seen = set()
    for values in generate.workforce_rows(seed, workers, TODAY):
        row = dict(zip(KEYS, values, strict=True))
        parsed, found = read_row(3, row, TODAY)  # type: ignore[arg-type]
        assert found == [], (row, found)
        assert parsed is not None
        number = parsed.resident.number
        assert number[-1] == ric.calc_check_digit(number)  # GB 11643 (the birth place is not checked: id_numbers)
        seen.add(parsed.resident.number)
    assert len(seen) == workers


def test_generated_files_are_deterministic_by_seed(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    one = generate.write(folder / "one", 3, 150, xlsx=True, today=TODAY)
    two = generate.write(folder / "two", 3, 150, xlsx=False, today=TODAY)
    assert one["workforce_csv"].read_bytes() == two["workforce_csv"].read_bytes()
    assert one["regions"].read_bytes() == two["regions"].read_bytes()
    csv_rows = read_table(one["workforce_csv"].read_bytes(), COLUMNS).rows
    xlsx_rows = read_table(one["workforce_xlsx"].read_bytes(), COLUMNS).rows
    assert len(csv_rows) == len(xlsx_rows) == 150
    regions = one["regions"].read_text(encoding="utf-8").splitlines()
    assert regions[2].startswith("330000,浙江省")  # after the Chinese and English header rows
    assert any(line.startswith("331082,临海市,331000,") for line in regions)
