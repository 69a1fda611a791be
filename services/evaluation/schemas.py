"""Evaluation API schemas: the enum codes the API speaks, with their zh-CN labels."""

from enum import StrEnum


class AssessmentGrade(StrEnum):
    """考核等次 assessment grade (E3)."""

    excellent = "excellent"
    competent = "competent"
    basically_competent = "basically_competent"
    incompetent = "incompetent"


class MustVisitCategory(StrEnum):
    """六必访 must-visit household category (E7)."""

    newly_moved_in = "newly_moved_in"
    major_misfortune = "major_misfortune"
    special_hardship = "special_hardship"
    laid_off = "laid_off"
    released_prisoner = "released_prisoner"
    soldier_family = "soldier_family"


class TimelyType(StrEnum):
    """四及时 timely visit type (E7)."""

    follow_up = "follow_up"
    emergency_help = "emergency_help"
    dispute_mediation = "dispute_mediation"
    incident_report = "incident_report"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "assessment_grade": {
        AssessmentGrade.excellent: "优秀",
        AssessmentGrade.competent: "合格",
        AssessmentGrade.basically_competent: "基本合格",
        AssessmentGrade.incompetent: "不合格",
    },
    "must_visit_category": {
        MustVisitCategory.newly_moved_in: "新迁入户",
        MustVisitCategory.major_misfortune: "遭遇重大变故户",
        MustVisitCategory.special_hardship: "特殊困难户",
        MustVisitCategory.laid_off: "下岗失业户",
        MustVisitCategory.released_prisoner: "归正人员户",
        MustVisitCategory.soldier_family: "应征入伍或退伍军人户",
    },
    "timely_type": {
        TimelyType.follow_up: "群众诉求及时跟进",
        TimelyType.emergency_help: "紧急情况及时援助",
        TimelyType.dispute_mediation: "矛盾纠纷及时调处",
        TimelyType.incident_report: "重大事件及时到场报告",
    },
}
