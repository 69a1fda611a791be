"""A labelled code: the member's name is its code, its label travels with it, and none is left without one."""

from __future__ import annotations

from enum import auto

import pytest

from services.compensation.schemas import ENUM_LABELS as COMPENSATION_LABELS
from services.compensation.schemas import PayrollRunStatus
from shared.labelled import LabelledEnum, labels


class Kind(LabelledEnum):
    """种类 a kind."""

    first_kind = auto(), "第一种"
    second_kind = auto(), "第二种"


def test_the_code_is_the_name_and_the_label_rides_along() -> None:
    assert [(k.value, k.label) for k in Kind] == [("first_kind", "第一种"), ("second_kind", "第二种")]
    assert Kind("second_kind") is Kind.second_kind
    assert Kind.first_kind == "first_kind"
    assert labels(Kind) == {"first_kind": "第一种", "second_kind": "第二种"}


def test_an_unknown_code_is_refused_as_by_any_enum() -> None:
    with pytest.raises(ValueError, match="third_kind"):
        Kind("third_kind")


def test_a_member_without_its_label_is_refused() -> None:
    with pytest.raises(TypeError, match="no label"):

        class Unlabelled(LabelledEnum):
            bare = auto()


def test_every_payroll_run_status_has_its_label() -> None:
    # the label table is built from the members: a new status cannot be missing from GET /v1/meta/enums
    assert list(COMPENSATION_LABELS["payroll_run_status"]) == list(PayrollRunStatus)
    assert all(COMPENSATION_LABELS["payroll_run_status"].values())
