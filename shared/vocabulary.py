"""The codes more than one service speaks: the post (P1) and the assessment grade (E3). One definition, used by
the services' API schemas and by the event contracts (``shared/contracts.py``)."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from shared.policy_rules import decides


@decides("P1")
class Post(StrEnum):
    """岗位 post (P1: 三岗 — 社区正职, 社区副职, 社区工作人员)."""

    chief = "chief"
    deputy = "deputy"
    staff = "staff"


class AssessmentGrade(StrEnum):
    """考核等次 assessment grade (E3: 优秀, 合格, 基本合格, 不合格)."""

    excellent = "excellent"
    competent = "competent"
    basically_competent = "basically_competent"
    incompetent = "incompetent"


# C4 grade ranges per post (三岗十八级 practice: chief 7–18, deputy 4–15, staff 1–12): the roster checks an
# assignment against them, the C7 step-up stops at the top of its post's range.
GRADE_RANGES: dict[str, tuple[int, int]] = {"chief": (7, 18), "deputy": (4, 15), "staff": (1, 12)}

Grade = Annotated[int, Field(ge=1, le=18)]
"""A grade of the scale (C4, 三岗十八级): 1–18; :data:`GRADE_RANGES` narrows it per post."""
