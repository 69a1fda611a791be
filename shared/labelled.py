"""A code of the API with its zh-CN label, declared together: ``pending = auto(), "待入职"``.

The code is the member's name (``auto()``, as for any :class:`~enum.StrEnum`); the label is what
``GET /v1/meta/enums`` and the spreadsheets show. A service's label table is :func:`labels` of its enums.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """A :class:`~enum.StrEnum` whose members also carry ``label``, their zh-CN name."""

    _value_: str
    label: str

    # ``label`` has a default only for the type checker, which reads ``Kind("code")`` (a look-up by value,
    # which never reaches this method) as a call of ``__new__``: a member without its label is refused.
    def __new__(cls, value: str, label: str = "") -> Self:
        if not label:
            raise TypeError(f"{cls.__name__}.{value} has no label: declare it as {value} = auto(), '<label>'")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def labels(codes: type[LabelledEnum]) -> dict[str, str]:
    """Each code's label, in declaration order."""
    return {member: member.label for member in codes}
