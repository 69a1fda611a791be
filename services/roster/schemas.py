"""Roster API schemas: enum codes (labels at ``GET /v1/meta/enums``), request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum, auto

from pydantic import BaseModel, ConfigDict, Field

from shared.codes import IdNumberText, PhoneNumber
from shared.import_schemas import IMPORT_LABELS, ImportJobBase
from shared.inputs import Count
from shared.labelled import LabelledEnum, labels
from shared.policy_rules import decides
from shared.regions import CommunityCode, CountyCode, RegionCode
from shared.vocabulary import Grade, Post


class WorkerStatus(LabelledEnum):
    """人员状态 worker status, derived as of a date from the worker's dated records (H4, H6; see lifecycle)."""

    pending = auto(), "待入职"
    probation = auto(), "试用期"
    active = auto(), "在岗"
    on_loan = auto(), "借用/跟岗锻炼"
    left = auto(), "离职"


class CommunityKind(LabelledEnum):
    """社区类型 community kind (S1–S4)."""

    urban = auto(), "城市社区"
    rural = auto(), "农村社区"
    commercial_residential = auto(), "商住社区"
    old_town = auto(), "老旧社区"


class CertificateLevel(LabelledEnum):
    """社会工作职业资格 social-work certificate level (C8, H7)."""

    assistant = auto(), "助理社会工作师"
    social_worker = auto(), "社会工作师"
    senior = auto(), "高级社会工作师"


class RecruitmentChannel(LabelledEnum):
    """选聘渠道 recruitment channel (H1)."""

    election = auto(), "选任"
    recruitment = auto(), "招聘"


@decides("P4")
class Duty(LabelledEnum):
    """岗位职责 duty area of a post (P4); a post may list several (全科, generalist)."""

    party_affairs = auto(), "党建"
    social_affairs = auto(), "社会事务"
    culture_education_sport = auto(), "文教体育"
    environment_sanitation = auto(), "环境卫生"
    comprehensive_governance = auto(), "综合治理"
    labour_social_security = auto(), "劳动就业和社会保障"


class Education(LabelledEnum):
    """学历 education."""

    secondary = auto(), "高中及以下"
    associate = auto(), "大专"
    bachelor = auto(), "本科"
    master = auto(), "硕士研究生"
    doctorate = auto(), "博士研究生"


class PoliticalStatus(LabelledEnum):
    """政治面貌 political status."""

    cpc_member = auto(), "中共党员"
    cpc_probationary = auto(), "中共预备党员"
    cyl_member = auto(), "共青团员"
    democratic_party = auto(), "民主党派"
    masses = auto(), "群众"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "post": labels(Post),
    "worker_status": labels(WorkerStatus),
    "community_kind": labels(CommunityKind),
    "certificate_level": labels(CertificateLevel),
    "recruitment_channel": labels(RecruitmentChannel),
    "duty": labels(Duty),
    "education": labels(Education),
    "political_status": labels(PoliticalStatus),
}


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: RegionCode = Field(
        description="区划代码 official code: 6 digits to county (GB/T 2260), 12 below (statistical code); "
        "extends its parent's code"
    )
    name: str = Field(min_length=1, max_length=100, description="名称 name")
    parent_code: RegionCode | None = Field(None, description="上级区划 parent (none for a province)")
    kind: CommunityKind | None = Field(None, description="社区类型 community kind, for communities (S1–S4)")
    households: Count = Field(0, description="户数 households (S2)")
    population: Count = Field(0, description="人口 population")
    extra_staff: int = Field(0, ge=0, le=50, description="增配名额 extra posts by approval (S3)")
    extra_staff_approval: str | None = Field(None, max_length=200, description="增配审批文件 approving document (S3)")


class RegionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100, description="名称 name")
    kind: CommunityKind | None = Field(None, description="社区类型 community kind (S1–S4)")
    households: Count | None = Field(None, description="户数 households (S2)")
    population: Count | None = Field(None, description="人口 population")
    extra_staff: int | None = Field(None, ge=0, le=50, description="增配名额 extra posts by approval (S3)")
    extra_staff_approval: str | None = Field(None, max_length=200, description="增配审批文件 (S3)")


class RegionOut(BaseModel):
    code: str = Field(description="区划代码 official code")
    name: str
    parent_code: str | None
    level: str = Field(description="层级 province, city, county, township, community")
    kind: CommunityKind | None
    households: int
    population: int
    extra_staff: int = Field(description="增配名额 (S3)")
    extra_staff_approval: str | None
    required_staff: int | None = Field(description="应配人数 S1–S4, for communities")
    version: int


class QuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headcount: int = Field(ge=0, le=100_000, description="员额 headcount quota (S5)")
    approval: str | None = Field(None, max_length=200, description="核定文件 approving document")


class QuotaOut(BaseModel):
    county_code: str
    year: int
    headcount: int = Field(description="员额 (S5)")
    used: int = Field(
        description="已用 the most workers of the county employed on any one day of the year: hired on or before "
        "the day, not left (S5)"
    )
    approval: str | None


class Sex(StrEnum):
    """性别 sex, as the 17th digit of the ID number says (odd: male)."""

    male = "male"
    female = "female"


class WorkerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: IdNumberText = Field(
        description="身份证号 18-digit resident ID (GB 11643); full-width or other Unicode digits are normalised. "
        "Its birth date must be 1900 or later and not in the future; the person must be of working age on "
        "the hire date: 18 or older, below the statutory retirement age (2025 gradual schedule)"
    )
    birth_date: date | None = Field(
        None, description="出生日期 optional; when given it must agree with the ID number's (GB 11643)"
    )
    sex: Sex | None = Field(None, description="性别 optional; when given it must agree with the ID number's (GB 11643)")
    name: str = Field(min_length=1, max_length=50, description="姓名 name")
    phone: PhoneNumber | None = Field(None, description="手机号 mobile number")
    education: Education | None = Field(None, description="学历 education")
    political_status: PoliticalStatus | None = Field(None, description="政治面貌 political status")
    community_code: CommunityCode = Field(description="所在社区 community (12 digits)")
    lives_in_community: bool = Field(False, description="是否居住在本社区 lives in the community (S6)")
    generalist: bool = Field(False, description="全科社工 generalist (S7)")
    grid_duties: bool = Field(False, description="兼任网格员 holds grid-worker duties (S8: a finding)")
    certificate_level: CertificateLevel | None = Field(None, description="社工职业资格 certificate (C8, H7)")
    certificate_date: date | None = Field(None, description="取证日期 certificate date")
    hire_date: date = Field(
        description="入职日期 hire date, the first day employed; probation runs `probation_months` (6) from it, the "
        "probation end inclusive (H4). For a person who has left, a later hire date re-hires them: same worker id, "
        "a new employment period"
    )


class WorkerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: PhoneNumber | None = Field(None, description="手机号 mobile number")
    education: Education | None = None
    political_status: PoliticalStatus | None = None
    lives_in_community: bool | None = Field(None, description="(S6)")
    generalist: bool | None = Field(None, description="(S7)")
    grid_duties: bool | None = Field(None, description="(S8)")
    certificate_level: CertificateLevel | None = None
    certificate_date: date | None = None
    status: WorkerStatus | None = Field(
        None,
        description="人员状态 only `left` may be sent (with left_date): the other statuses follow from the dates "
        "(H4 probation, H6 loans)",
    )
    left_date: date | None = Field(
        None,
        description="离职日期 leave date, inclusive: the last day worked and paid (C6); posts and contracts end from "
        "the next day (their exclusive end becomes left_date + 1); status `left` from the next day",
    )
    career_staff_date: date | None = Field(
        None, description="取得事业编制日期 date the worker took a career-staff post; no transfer for 3 years (K3)"
    )
    career_staff_document: str | None = Field(None, max_length=200, description="事业编制文件 appointing document (K3)")


class PostOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    community_code: str
    post: Post = Field(description="岗位 post (P1)")
    grade: int = Field(description="岗位等级 grade, 1–18 (C4)")
    start_date: date = Field(description="任职日期 first day in the post")
    end_date: date | None = Field(
        description="结束日期 exclusive: the first day not in the post (the next post starts on it; after leaving on "
        "day L it is L + 1); null while held"
    )
    approval: str | None = Field(description="审批 approval of a second chief (P2)")
    duties: list[Duty] = Field(description="岗位职责 duty areas of the post (P4); several: generalist (全科)")


class EmploymentOut(BaseModel):
    hire_date: date = Field(description="入职日期 first day employed")
    left_date: date | None = Field(description="离职日期 inclusive: last day worked and paid (C6); null while employed")
    probation_end: date = Field(description="试用期满 inclusive: last day of probation (H4); active from the next day")


class WorkerOut(BaseModel):
    id: uuid.UUID
    id_number: str = Field(description="身份证号 masked: first 6 + ******** + last 4")
    name: str
    sex: str = Field(description="性别 derived from the ID number")
    birth_date: date = Field(description="出生日期 derived from the ID number")
    phone: str | None = Field(description="手机号 masked: 138****5678")
    education: Education | None
    political_status: PoliticalStatus | None
    community_code: str
    lives_in_community: bool = Field(description="(S6)")
    generalist: bool = Field(description="(S7)")
    grid_duties: bool = Field(description="(S8)")
    certificate_level: CertificateLevel | None
    certificate_date: date | None
    status: WorkerStatus = Field(
        description="人员状态 as of `status_as_of`: pending before the hire date, probation up to and including the "
        "probation end (H4), on_loan during a loan or practice posting (H6), left after the leave date, else active"
    )
    status_as_of: date = Field(description="状态日期 the date the status and current post are for (`as_of`)")
    hire_date: date = Field(description="入职日期 first day of the latest employment")
    left_date: date | None = Field(description="离职日期 inclusive: last day of the latest employment (C6)")
    probation_end: date | None = Field(
        description="试用期满 inclusive: last day of probation of the latest employment (H4)"
    )
    employments: list[EmploymentOut] = Field(description="任职经历 every employment period, oldest first")
    career_staff_date: date | None = Field(description="取得事业编制日期 (K3)")
    career_staff_document: str | None = Field(description="事业编制文件 (K3)")
    current_post: PostOut | None = Field(description="当前岗位 the post held on `status_as_of`")
    version: int
    updated_at: datetime = Field(
        description="更新时间 when the record last changed (UTC): a hire, an edit, leaving, a transfer, a new post"
    )


class PersonalData(BaseModel):
    worker_id: uuid.UUID
    id_number: str = Field(description="身份证号 unmasked (audited read)")
    phone: str | None = Field(description="手机号 unmasked (audited read)")


class PersonalDataRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=1000, description="社工编号 up to 1,000 workers, each one the caller may see"
    )


class PersonalDataBatch(BaseModel):
    items: list[PersonalData] = Field(description="条目 each worker once, in the order asked")


class IdNumberLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: IdNumberText = Field(description="身份证号 resident ID to look up (Unicode digits normalised)")


class PostAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post: Post = Field(description="岗位 post (P1)")
    grade: Grade = Field(description="岗位等级 grade, 1–18 (C4)")
    start_date: date = Field(description="任职日期 start; a held post ends the day this one starts (exclusive end)")
    approval: str | None = Field(None, max_length=200, description="审批 approval of a second chief (P2)")
    duties: list[Duty] = Field(
        default_factory=list,
        max_length=6,
        description="岗位职责 duty areas (P4): party affairs, social affairs, culture/education/sport, environment "
        "and sanitation, comprehensive governance, labour/employment/social security; several for a generalist",
    )


class FindingOut(BaseModel):
    rule: str = Field(description="政策规则 POLICY.md rule id")
    region: str = Field(description="区划 community or county concerned")
    message: str = Field(description="说明 in the negotiated language")
    expected: int | None
    actual: int | None


class CommunityReport(BaseModel):
    code: str
    name: str
    kind: CommunityKind | None
    households: int
    required: int = Field(description="应配 S1–S4")
    actual: int = Field(description="实配 workers in post on the date")
    findings: list[FindingOut]


class QuotaUse(BaseModel):
    county_code: str
    headcount: int | None = Field(description="员额 (S5); null when not set")
    used: int = Field(description="已用 workers of the county employed on the report's date (S5)")
    findings: list[FindingOut] = Field(description="超员额 quota exceeded (S5)")


class StaffingReport(BaseModel):
    region: str
    date: date
    communities: list[CommunityReport]
    quotas: list[QuotaUse] = Field(description="员额使用 per county (S5)")
    findings: int = Field(description="问题总数 number of findings")


class PersonalDataReadOut(BaseModel):
    id: int
    occurred_at: datetime
    actor: str = Field(description="读取人 who read it")
    worker_id: uuid.UUID | None = Field(description="社工编号 the worker of a single read; null for a bulk read")
    worker_ids: list[uuid.UUID] = Field(description="社工编号 every worker whose data was shown")
    region: str = Field(description="区划代码 the smallest region holding every worker named")
    fields: list[str] = Field(description="字段 which fields were shown unmasked")
    request_id: str | None


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_date: date = Field(description="起始日期 a renewal starts the day the previous contract ends (H3)")


class ContractOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    township_code: str = Field(description="签约乡镇（街道） the signing township (H3)")
    start_date: date = Field(description="起始日期 first day of the contract")
    end_date: date = Field(
        description="终止日期 exclusive: the first day not covered, one year after the start (H3); a renewal starts "
        "on it; after leaving on day L it is L + 1"
    )
    probation_end: date | None = Field(
        description="试用期满 inclusive: last day of probation, `probation_months` (6) from hire; first contract of an "
        "employment only (H4)"
    )
    renewal_of: uuid.UUID | None
    h9_recontract: bool = Field(description="H9 重新签订 re-contracting of a worker recruited before these rules")
    prior_arrangement: str | None = Field(description="原用工方式 how the worker was engaged before (H9)")


class RecontractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_date: date = Field(description="起始日期 first day of the township contract (H3); on or after the hire date")
    prior_arrangement: str = Field(
        min_length=1, max_length=200, description="原用工方式 how the worker was engaged before these rules (H9)"
    )


class SecondmentKind(StrEnum):
    """借用 loan / 跟岗锻炼 practice posting (H6)."""

    loan = "loan"
    practice = "practice"


class SecondmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SecondmentKind
    host: str = Field(min_length=1, max_length=100, description="接收单位 receiving department")
    start_date: date = Field(description="开始日期 first day away; status on_loan from it (H6)")
    end_date: date = Field(
        description="结束日期 exclusive: the first day back (normal status again); a loan ≤ 6 months, practice ≤ 1 "
        "year (H6)"
    )
    approval: str | None = Field(None, max_length=200, description="县级审批 county approval, required for a loan (H6)")


class SecondmentOut(SecondmentIn):
    id: uuid.UUID
    worker_id: uuid.UUID


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_community: CommunityCode = Field(description="调入社区 destination community")
    effective_date: date = Field(
        description="生效日期 first day in the new community: at least 2 years after hire (H5), and 3 years after "
        "taking a career-staff post (K3)"
    )


class TransferOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    from_community: str
    to_community: str
    effective_date: date


class RoundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    county_code: CountyCode = Field(description="县（市、区） the county (H1)")
    channel: RecruitmentChannel = Field(description="渠道 election (选任) or recruitment (招聘) (H1)")
    announced_on: date = Field(description="公告日期 announcement date; ends the previous round's reserve (H2)")
    hires: int = Field(ge=0, le=10_000, description="录用人数 hires of the round")
    title: str = Field(min_length=1, max_length=200, description="名称 title")


class RoundOut(RoundIn):
    id: uuid.UUID
    reserve_capacity: int = Field(description="储备上限 at most 1:1 of hires (H2)")
    reserve_used: int


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    id_number: IdNumberText = Field(description="身份证号 (kept only as a keyed hash; Unicode digits normalised)")
    score: Decimal | None = Field(None, ge=0, le=1000, decimal_places=2, description="笔试成绩 exam score")


class ReserveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates: list[CandidateIn] = Field(min_length=1, max_length=1000)


class ReserveEntryOut(BaseModel):
    id: uuid.UUID
    round_id: uuid.UUID
    name: str
    score: Decimal | None
    rank: int
    expires_on: date | None = Field(description="失效日期 the next round's announcement date (H2); null while none")


class WorkerRow(BaseModel):
    """The worker a report's row is about (the rows below add their findings)."""

    worker_id: uuid.UUID
    name: str
    community_code: str


class RenewalRow(WorkerRow):
    contract_end: date = Field(description="合同到期 end of the current contract")
    renewable: bool
    bars: list[FindingOut] = Field(description="不予续签原因 H7, H8")


class CareerRow(WorkerRow):
    years_as_chief: float = Field(description="连续任正职年数 consecutive years as chief")
    required_years: int = Field(description="K1 6 (温州) / K2 5 (台州)")
    rule: str


class StaffingPolicyOut(BaseModel):
    """配备参数 the roster's policy in force for a region and year (walked up the tree over the preset)."""

    base_staff: int = Field(description="社区基础配备人数 base workers of an urban community (S1: 6)")
    household_threshold: int = Field(description="户数起点 households above which more are needed (S2: 2,000)")
    household_step: int = Field(description="每增户数 households per additional worker (S2: 500)")
    rounding: str = Field(description="取整方式 floor (whole steps) or ceil (S2)")
    rural_min: int = Field(description="农村社区最少人数 (S4: 1)")
    rural_max: int = Field(description="农村社区最多人数 (S4: 2)")
    min_resident_workers: int = Field(description="本社区居住最少人数 (S6: Taizhou 1)")
    min_generalists: int = Field(description="全科社工最少人数 (S7: Taizhou 2)")
    max_chiefs_with_approval: int = Field(description="正职上限（含审批） (P2: 2)")
    min_deputies: int = Field(description="副职最少 (P3: 1)")
    max_deputies: int = Field(description="副职最多 (P3: 2)")
    reserve_ratio: float = Field(description="储备比例 reserve entries per hire (H2: 1:1)")
    contract_years: int = Field(description="合同年限 (H3: 1)")
    probation_months: int = Field(description="试用期月数 (H4: 6)")
    min_service_years: int = Field(description="转岗最低服务年限 (H5: 2)")
    loan_max_months: int = Field(description="借用最长月数 (H6: 6)")
    practice_max_months: int = Field(description="跟岗锻炼最长月数 (H6: 12)")
    certificate_deadline_years: int = Field(description="取证期限年数 (H7: 3)")
    incompetent_years_to_end: int = Field(description="连续不合格年数 that end the contract (H8: 2)")
    career_chief_years: int = Field(description="连续任正职年数 for career eligibility (K1: 6, K2: 5)")
    career_staff_stay_years: int = Field(
        description="取得事业编制后留任社区年数 years before a transfer after taking a career-staff post (K3: 3)"
    )
    source: str = Field(description="依据 the document the values come from")


class ImportKind(LabelledEnum):
    """导入类型 what an upload holds (issue #13): the roster's kinds."""

    workforce = auto(), "社区工作者"
    regions = auto(), "区划与社区"


ENUM_LABELS["import_kind"] = labels(ImportKind)
ENUM_LABELS |= IMPORT_LABELS


class ImportJobOut(ImportJobBase):
    kind: ImportKind = Field(description="导入类型 workforce | regions")
