"""Resident ID numbers (GB 11643) by python-stdnum; birth date and sex derived; keyed look-up hash."""

from datetime import date

import pytest

from services.roster.domain.id_numbers import InvalidIdNumber, id_number_key, parse_id_number
from services.roster.tests.conftest import id_number


def test_birth_date_and_sex_come_from_the_number() -> None:
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"  # 17th digit 2: even
    assert parse_id_number(id_number(7, "19880315", male=True)).sex == "male"


def test_lower_case_x_is_accepted_and_normalised() -> None:
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("1101051949123100", "18 characters"),
        ("11010519491331002X", "check digit"),
        ("ABCDEFGHIJKLMNOPQR", "not a resident ID"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(number: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber, match=reason):
        parse_id_number(number)


def test_an_abolished_or_unknown_region_prefix_is_still_valid() -> None:
    # 330322 洞头县 became 洞头区 330305 in 2015; numbers issued before keep their prefix.
    assert parse_id_number(id_number(1, region="330322", birth="20200101")).number.startswith("330322")
    assert parse_id_number(id_number(2, region="339999")).number.startswith("339999")


def test_an_impossible_birth_date_with_a_right_check_digit_is_refused() -> None:
    with pytest.raises(InvalidIdNumber, match="birth date"):
        parse_id_number(id_number(3, birth="19900230"))


def test_keyed_hash_is_stable_per_key_and_differs_between_keys() -> None:
    number = "11010519491231002X"
    assert id_number_key(number, b"k1") == id_number_key(number.lower(), b"k1")
    assert id_number_key(number, b"k1") != id_number_key(number, b"k2")
    assert number not in id_number_key(number, b"k1")
