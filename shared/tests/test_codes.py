"""Codes typed with any Unicode digits are one code (item "ID normalisation")."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.codes import ascii_code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("33030219900101001x", "33030219900101001X"),
        ("３３０３０２１９９００１０１００１Ｘ", "33030219900101001X"),  # full-width (NFKC)
        ("٣٣٠٣٠٢", "330302"),  # Arabic-Indic digits
        ("۳۳۰۳۰۲", "330302"),  # extended Arabic-Indic (Persian) digits
        ("३३०३०२", "330302"),  # Devanagari digits
        (" 330302 ", "330302"),
    ],
)
def test_unicode_digits_become_ascii(typed: str, expected: str) -> None:
    assert ascii_code(typed) == expected


def test_non_digits_stay_for_the_checks_to_refuse() -> None:
    assert ascii_code("33030a") == "33030A"
    assert ascii_code("²³") == "23"  # NFKC folds superscripts too: still checked as a code afterwards


def _full_pass(raw: str) -> str:
    """ascii_code without its shortcut for ASCII text: NFKC, decimal digits to ASCII, upper case, trimmed."""
    text = unicodedata.normalize("NFKC", raw).strip()
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text).upper()


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_the_ascii_shortcut_answers_what_the_full_pass_does(raw: str) -> None:
    """ASCII cells (nearly every cell of an import) skip the NFKC pass: the answer is the same for any text."""
    assert ascii_code(raw) == _full_pass(raw)
