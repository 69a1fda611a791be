"""Codes as people type them: ID numbers (GB 11643) and region codes (GB/T 2260) in ASCII.

A number copied from a Word document or a phone keyboard may come in full-width digits (``３３０３``) or
another script's decimal digits (Arabic-Indic ``٣٣٠٣``). Python's ``\\d`` and ``str.isdigit`` accept those,
so without normalising, one person could be hired twice under two spellings of the same ID number.
:func:`ascii_code` is applied before any check, look-up, keyed hash or uniqueness test.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints


def ascii_code(raw: str) -> str:
    """NFKC, then every Unicode decimal digit to its ASCII digit, upper case (``x`` → ``X``), trimmed."""
    if raw.isascii():  # NFKC leaves ASCII as it is, and every ASCII digit is already ASCII
        return raw.strip().upper()
    text = unicodedata.normalize("NFKC", raw).strip()
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text).upper()


def _ascii_code_input(value: Any) -> Any:
    return ascii_code(value) if isinstance(value, str) else value


AsciiCode = BeforeValidator(_ascii_code_input)
"""Pydantic metadata: normalise a code field (body, query or path) before its own constraints run."""

PhoneNumber = Annotated[str, AsciiCode, StringConstraints(pattern=r"^1[0-9]{10}$")]
"""A mainland mobile number, 11 ASCII digits once normalised."""

IdNumberText = Annotated[str, AsciiCode, StringConstraints(min_length=1, max_length=20)]
"""An ID number as typed (18 characters once normalised; checked by ``cn.ric`` afterwards)."""
