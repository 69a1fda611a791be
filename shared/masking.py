"""Masking of personal data (CONVENTIONS: ID numbers first 6 + ``********`` + last 4, phones 3 + ``****`` + 4)."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str | None:
    """``330302199001011234`` → ``330302********1234``."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not value:
        return value
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
