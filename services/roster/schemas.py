"""Roster API schemas: the enum codes the API speaks, with their zh-CN labels (``GET /v1/meta/enums``)."""

from enum import StrEnum


class Post(StrEnum):
    """岗位 post (P1: 三岗)."""

    chief = "chief"
    deputy = "deputy"
    staff = "staff"


class WorkerStatus(StrEnum):
    """人员状态 worker status."""

    probation = "probation"
    active = "active"
    on_loan = "on_loan"
    left = "left"


class CommunityKind(StrEnum):
    """社区类型 community kind (S1–S4)."""

    urban = "urban"
    rural = "rural"
    commercial_residential = "commercial_residential"
    old_town = "old_town"


class CertificateLevel(StrEnum):
    """社会工作职业资格 social-work certificate level (C8, H7)."""

    assistant = "assistant"
    social_worker = "social_worker"
    senior = "senior"


class RecruitmentChannel(StrEnum):
    """选聘渠道 recruitment channel (H1)."""

    election = "election"
    recruitment = "recruitment"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "post": {Post.chief: "正职", Post.deputy: "副职", Post.staff: "工作人员"},
    "worker_status": {
        WorkerStatus.probation: "试用期",
        WorkerStatus.active: "在岗",
        WorkerStatus.on_loan: "借用",
        WorkerStatus.left: "离职",
    },
    "community_kind": {
        CommunityKind.urban: "城市社区",
        CommunityKind.rural: "农村社区",
        CommunityKind.commercial_residential: "商住社区",
        CommunityKind.old_town: "老旧社区",
    },
    "certificate_level": {
        CertificateLevel.assistant: "助理社会工作师",
        CertificateLevel.social_worker: "社会工作师",
        CertificateLevel.senior: "高级社会工作师",
    },
    "recruitment_channel": {RecruitmentChannel.election: "选任", RecruitmentChannel.recruitment: "招聘"},
}
