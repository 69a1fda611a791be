"""An import format's columns (shared/spreadsheets.py): the English header of a column is its key, written as
a template's second row and known again when a file is read."""

from shared.spreadsheets import SheetColumn, column_index, csv_bytes, read_table

COLUMNS = (SheetColumn("worker_id", "社工编号", required=True), SheetColumn("hours", "学时", "number"))


def test_the_english_header_is_the_key() -> None:
    assert [c.en for c in COLUMNS] == ["worker_id", "hours"]


def test_a_file_with_both_header_rows_is_read_from_its_third_line() -> None:
    table = read_table(csv_bytes(COLUMNS, [("w1", 8)]), COLUMNS)
    assert table.headers == ["社工编号", "学时"]
    assert table.rows == [(3, ["w1", "8"])]


def test_a_column_is_found_by_its_chinese_header_or_its_key() -> None:
    assert column_index(["学时", "社工编号"], COLUMNS[0]) == 1
    assert column_index(["hours", "worker_id"], COLUMNS[1]) == 0
    assert column_index(["hrs"], COLUMNS[1]) is None
