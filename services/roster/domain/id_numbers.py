"""Resident ID numbers (GB 11643): validated by python-stdnum, birth date and sex derived, keyed hash.

The check digit and the birth date are verified with ``stdnum.cn.ric``; the region prefix is not, so
a number issued under a since-abolished (or newer) division code stays valid. Sex is the parity of the 17th digit
(odd: male). Look-ups use an HMAC-SHA256 of the number under a secret key, so the plain number need not
be searchable (CONVENTIONS: personal data).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from shared.codes import ascii_code


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "male" | "female"


class InvalidIdNumber(ValueError):
    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_zh = reason_zh
        self.reason_en = reason_en


def parse_id_number(raw: str) -> ResidentId:
    """Length, digits, check digit and birth date by python-stdnum; the birth place deliberately not.

    ``ric.validate`` would also look the first six digits up in stdnum's table of division codes; a code
    created after that table was made, or one the table lacks, must not make a real person unhireable.
    """
    number = ric.compact(ascii_code(raw))  # full-width or other Unicode digits are the same number
    if len(number) != 18:
        raise InvalidIdNumber("身份证号应为18位", "must be 18 characters (the 15-digit form is not accepted)")
    if not number[:-1].isdigit() or not (number[-1].isdigit() or number[-1] == "X"):
        raise InvalidIdNumber("身份证号格式错误", "not a resident ID number")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumber("身份证号校验码错误", "the check digit is wrong")
    try:
        birth = ric.get_birth_date(number)
    except ValidationError as exc:
        raise InvalidIdNumber("身份证号中的出生日期无效", "the birth date in it is not a date") from exc
    return ResidentId(number=number, birth_date=birth, sex="male" if int(number[16]) % 2 else "female")


def id_number_key(number: str, secret: bytes) -> str:
    """The keyed hash every look-up by ID number uses."""
    return hmac.new(secret, ascii_code(number).encode(), hashlib.sha256).hexdigest()
