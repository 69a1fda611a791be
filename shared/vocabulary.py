"""The codes more than one service speaks: the post (P1) and the assessment grade (E3). One definition, used by
the services' API schemas and by the event contracts (``shared/contracts.py``)."""

from enum import auto
from typing import Annotated

from pydantic import Field

from shared.labelled import LabelledEnum
from shared.policy_rules import decides


@decides("P1")
class Post(LabelledEnum):
    """岗位 post (P1: 三岗 — 社区正职, 社区副职, 社区工作人员)."""

    chief = auto(), "正职"
    deputy = auto(), "副职"
    staff = auto(), "工作人员"


class AssessmentGrade(LabelledEnum):
    """考核等次 assessment grade (E3: 优秀, 合格, 基本合格, 不合格)."""

    excellent = auto(), "优秀"
    competent = auto(), "合格"
    basically_competent = auto(), "基本合格"
    incompetent = auto(), "不合格"


# C4 grade ranges per post (三岗十八级 practice: chief 7–18, deputy 4–15, staff 1–12): the roster checks an
# assignment against them, the C7 step-up stops at the top of its post's range.
GRADE_RANGES: dict[str, tuple[int, int]] = {"chief": (7, 18), "deputy": (4, 15), "staff": (1, 12)}

Grade = Annotated[int, Field(ge=1, le=18)]
"""A grade of the scale (C4, 三岗十八级): 1–18; :data:`GRADE_RANGES` narrows it per post."""
