"""Evaluation API schemas: the enum codes the API speaks, with their zh-CN labels."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import auto
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from shared.import_schemas import IMPORT_LABELS, ImportJobBase
from shared.inputs import Year
from shared.labelled import LabelledEnum, labels
from shared.problems import FieldError
from shared.regions import CommunityCode, TownshipCode
from shared.vocabulary import AssessmentGrade


class MustVisitCategory(LabelledEnum):
    """六必访 must-visit household category (E7)."""

    newly_moved_in = auto(), "新迁入户"
    major_misfortune = auto(), "遭遇重大变故户"
    special_hardship = auto(), "特殊困难户"
    laid_off = auto(), "下岗失业户"
    released_prisoner = auto(), "归正人员户"
    soldier_family = auto(), "应征入伍或退伍军人户"


class TimelyType(LabelledEnum):
    """四及时 timely visit type (E7)."""

    follow_up = auto(), "群众诉求及时跟进"
    emergency_help = auto(), "紧急情况及时援助"
    dispute_mediation = auto(), "矛盾纠纷及时调处"
    incident_report = auto(), "重大事件及时到场报告"


class RaterGroupCode(LabelledEnum):
    """评价主体 rater group (E2)."""

    community_secretary = auto(), "社区书记"
    township_cadres = auto(), "乡镇（街道）干部"
    party_members = auto(), "党员"
    residents = auto(), "居民"
    resident_representatives = auto(), "居民代表"
    peers = auto(), "同事"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "assessment_grade": labels(AssessmentGrade),
    "must_visit_category": labels(MustVisitCategory),
    "timely_type": labels(TimelyType),
    "rater_group": labels(RaterGroupCode),
}


class RaterGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: RaterGroupCode = Field(description="评价主体 rater group (E2)")
    weight: Decimal = Field(
        gt=0, le=1, decimal_places=3, description="权重 weight; the groups' weights add up to 1 (E2)"
    )
    min_panel: int | None = Field(None, ge=1, description="最少评价人数 minimum panel size, e.g. 50 residents")
    min_ordinary_share: Decimal | None = Field(
        None, ge=0, le=1, description="普通居民最低占比 e.g. 0.70 of a resident panel"
    )


class SchemeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[RaterGroupIn] = Field(min_length=1, description="评价主体及权重 rater groups (E2)")
    thresholds: dict[AssessmentGrade, Decimal] = Field(
        description="等次分数线 lowest score of excellent, competent, basically_competent (E3); below: incompetent"
    )
    excellent_cap_share: Decimal | None = Field(
        None, ge=0, le=1, description="优秀比例上限 cap on 优秀 per township; null: none"
    )
    daily_weight: Decimal = Field(
        Decimal(0), ge=0, le=1, description="平时考核权重 weight of daily against annual (E1)"
    )
    training_hours_required: Decimal = Field(
        Decimal(40), gt=0, le=2000, description="年度培训学时 hours a year (E5: 40)"
    )
    visit_share_required: Decimal = Field(
        Decimal("0.5"), ge=0, le=1, description="走访时间占比 share of working time visiting (E7: 0.5)"
    )
    monthly_working_hours: Decimal = Field(
        Decimal(174), gt=0, le=744, description="月工作时长 working hours a month (E7)"
    )
    must_visit_days: int = Field(
        30, ge=1, le=365, description="必访时限 days within which a must-visit household is visited (E7)"
    )
    source: str = Field(min_length=1, max_length=300, description="依据 the county's document")


class SchemeOut(SchemeIn):
    county_code: str = Field(description="县级区划代码 county")
    year: int = Field(description="年度 year")
    problems: list[str] = Field(description="待补参数 what must still be set before a cycle can close")


class CycleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_code: TownshipCode = Field(description="乡镇（街道） the township (E1)")
    year: Year = Field(description="考核年度 year assessed")


class CycleOut(BaseModel):
    id: uuid.UUID
    township_code: str
    year: int
    status: str = Field(description="状态 open | closed")
    closed_at: datetime | None = Field(description="关闭时间 when closed")


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: uuid.UUID
    rater_group: RaterGroupCode
    score: Decimal = Field(ge=0, le=100, decimal_places=2, description="得分 score (0–100)")
    panel_size: int | None = Field(None, ge=1, description="评价人数 raters behind an aggregate score")
    ordinary_share: Decimal | None = Field(None, ge=0, le=1, description="普通居民占比 share of ordinary residents")


class ScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[ScoreIn] = Field(
        min_length=1, max_length=20_000, description="评分 one (mobile) or a township's (bulk)"
    )


class DailyScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: uuid.UUID
    score: Decimal = Field(ge=0, le=100, decimal_places=2, description="平时考核得分 the rolled-up daily score (E1)")


class DailyScoresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[DailyScoreIn] = Field(min_length=1, max_length=20_000, description="平时考核 daily scores (E1)")


class ResultOut(BaseModel):
    worker_id: uuid.UUID
    year: int
    score: Decimal = Field(description="综合得分 weighted score (E1, E2)")
    grade: AssessmentGrade = Field(description="等次 grade (E3)")
    rank: int = Field(description="名次 rank in the township")
    capped: bool = Field(description="因优秀比例降为合格 demoted to competent by the cap")
    appeal_reason: str | None = Field(description="申诉理由 appeal reason, when changed by an appeal")
    appeal_decided_by: str | None = Field(description="申诉决定人 who decided the appeal")


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: AssessmentGrade = Field(description="复核后等次 the grade after the appeal")
    reason: str = Field(min_length=1, max_length=500, description="理由 reason")


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course: str = Field(min_length=1, max_length=200, description="课程 course")
    organiser: str = Field(min_length=1, max_length=100, description="主办单位 organiser")
    hours: Decimal = Field(gt=0, le=200, decimal_places=1, description="学时 class hours (E5)")
    start_date: date = Field(description="开始日期 start")
    end_date: date = Field(description="结束日期 end")
    worker_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000, description="参训人员 the attendance list")


class WorkerRow(BaseModel):
    """The worker a report's row is about (the rows below add their figures)."""

    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    community_code: str


class TrainingRow(WorkerRow):
    hours: Decimal = Field(description="年度学时 hours in the year (E5)")
    required: Decimal = Field(description="应修学时 required hours (E5: 40)")
    rule: str | None = Field(description="E5 when short of the requirement")


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: Year = Field(description="年度 year (E6: one a year)")
    title: str = Field(min_length=1, max_length=200, description="标题 title")
    content: str = Field(min_length=1, max_length=20000, description="正文 the case or experience summary")
    worker_id: uuid.UUID | None = Field(
        None, description="社工编号 for a township officer entering it; a worker's own token says who"
    )


class CaseReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "returned"] = Field(description="审核结论 approved, or returned with comments (E6)")
    comment: str | None = Field(None, max_length=2000, description="意见 comments")


class CaseOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    year: int
    title: str
    status: str = Field(description="状态 submitted | approved | returned")
    comment: str | None = Field(description="审核意见 the township's comments")


# A household (E7): its address (building, unit and door, never a name), its must-visit category and since
# when. Each described once, in and out.
Building = Annotated[str, Field(description="楼栋 building")]
Unit = Annotated[str, Field(description="单元 unit")]
DoorNumber = Annotated[str, Field(description="户 door number")]
HouseholdCategory = Annotated[MustVisitCategory, Field(description="六必访 category (E7)")]
Since = Annotated[date, Field(description="起始日期 since")]


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID = Field(description="走访编号 made by the app: the same id uploaded again changes nothing")
    community_code: CommunityCode = Field(description="社区代码 community")
    building: Building = Field(min_length=1, max_length=20)
    unit: Unit = Field(min_length=1, max_length=20)
    household: str = Field(
        min_length=1, max_length=20, description="户 door number (no name: no more personal detail than needed)"
    )
    must_visit_category: MustVisitCategory | None = Field(None, description="六必访 category (E7)")
    timely_type: TimelyType | None = Field(None, description="四及时 type (E7)")
    started_at: datetime = Field(description="开始 start (may be in the past: uploaded later)")
    ended_at: datetime = Field(description="结束 end")
    note: str | None = Field(None, max_length=500, description="备注 note")
    worker_id: uuid.UUID | None = Field(
        None, description="社工编号 for an officer recording for a worker; a worker's token says who"
    )


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with references into the OpenAPI components (its enums are there)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


# Each visit of a batch is checked on its own (a malformed one is refused, the others stored), so the
# body takes objects and the contract shows them as VisitIn.
VisitItem = Annotated[dict[str, Any], WithJsonSchema(_inline_schema(VisitIn))]


class VisitBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    visits: list[VisitItem] = Field(
        min_length=1, max_length=500, description="走访记录 an offline batch from the app, each a VisitIn"
    )


VisitOutcome = Literal["stored", "duplicate", "conflict", "refused"]


class VisitResult(BaseModel):
    index: int = Field(description="序号 the visit's position in the batch, from 0")
    id: uuid.UUID | None = Field(description="走访编号 the app's id (null when it was not a valid id)")
    outcome: VisitOutcome = Field(
        description="结果 stored; duplicate (already stored, same content: not stored twice); conflict (same id, "
        "other content: not stored); refused (see errors: field, reason in Chinese and English, rule)"
    )
    errors: list[FieldError] = Field(default_factory=list, description="原因 why it was not stored")


class VisitBatchOut(BaseModel):
    """The outcome of each visit: the good ones are stored whatever happens to the others."""

    results: list[VisitResult] = Field(description="逐条结果 one per visit, in the batch's order")
    stored: int = Field(description="已保存 visits stored now")
    duplicates: int = Field(description="重复 visits already stored before")
    refused: int = Field(description="未保存 visits refused or in conflict")


class VisitOut(BaseModel):
    id: uuid.UUID = Field(description="走访编号 the app's id")
    worker_id: uuid.UUID
    community_code: str = Field(description="社区代码 community")
    building: Building
    unit: Unit
    household: DoorNumber
    must_visit_category: MustVisitCategory | None = Field(None, description="六必访 category (E7)")
    timely_type: TimelyType | None = Field(None, description="四及时 type (E7)")
    started_at: datetime = Field(description="开始 start")
    ended_at: datetime = Field(description="结束 end")
    note: str | None = Field(None, description="备注 note")
    received_at: datetime = Field(description="接收时间 when the server stored it")


class MustVisitOut(BaseModel):
    id: uuid.UUID
    community_code: str = Field(description="社区代码 community")
    building: Building
    unit: Unit
    household: DoorNumber
    category: HouseholdCategory
    since: Since
    due: date = Field(description="应访日期 to be visited by (E7: the county's must-visit period)")


class SyncTargets(BaseModel):
    """This month's targets of the worker (E7), always as of now."""

    month: str
    visit_share_required: Decimal = Field(description="走访占比要求 share of working time visiting (E7)")
    monthly_working_hours: Decimal = Field(description="月工作时长 working hours of the month (E7)")
    visit_hours_required: Decimal = Field(description="应走访时长 hours to visit this month (E7)")
    visit_hours: Decimal = Field(description="已走访时长 hours visited so far this month (stored visits)")
    must_visit_days: int = Field(description="必访期限 days to visit a must-visit household (E7)")


class SyncOut(BaseModel):
    """What the app needs offline: changes to the worker's must-visit households since ``cursor`` (all of them
    without one), the households removed, and this month's targets."""

    cursor: str = Field(description="游标 pass as ?cursor= next time: nothing is missed, nothing comes twice")
    full: bool = Field(description="全量 true when this is every household (no cursor given): replace, not merge")
    has_more: bool = Field(description="还有更多 call again with the cursor at once")
    households: list[MustVisitOut] = Field(description="必访户 added or changed (upsert by id)")
    deleted: list[uuid.UUID] = Field(description="已删除 ids of must-visit households removed")
    targets: SyncTargets = Field(description="本月目标 this month's targets (E7)")


class MustVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community_code: CommunityCode = Field(description="社区代码 community")
    building: Building = Field(min_length=1, max_length=20)
    unit: Unit = Field(min_length=1, max_length=20)
    household: DoorNumber = Field(min_length=1, max_length=20)
    category: HouseholdCategory
    since: date = Field(description="起始日期 since when (e.g. the move-in date)")


class VisitRow(WorkerRow):
    visit_hours: Decimal = Field(description="走访时长 hours visiting in the month")
    working_hours: Decimal = Field(description="工作时长 working hours of the month (scheme)")
    share: Decimal = Field(description="占比 visit hours / working hours")
    rule: str | None = Field(description="E7 when below the required share")


class OpenMustVisit(BaseModel):
    community_code: str
    building: Building
    unit: Unit
    household: DoorNumber
    category: MustVisitCategory = Field(description="六必访 category")
    since: Since
    due: date = Field(description="应访日期 visit due by (E7)")


class VisitReport(BaseModel):
    region: str
    month: str
    workers: list[VisitRow]
    open_must_visits: list[OpenMustVisit] = Field(description="逾期未访 must-visit households not visited in time (E7)")


class ComplianceRow(WorkerRow):
    training_hours: Decimal = Field(description="年度培训学时 (E5)")
    case: str = Field(description="年度案例 approved, submitted, returned or missing (E6)")
    visit_share: Decimal = Field(description="走访时间占比 of the month (E7)")
    findings: list[str] = Field(description="问题 rule ids: E5, E6, E7")


class ComplianceReport(BaseModel):
    region: str
    month: str
    workers: list[ComplianceRow]
    rollup: dict[str, dict[str, int]] = Field(
        description="汇总 per community:, township:, county: code — workers and the count of each finding"
    )
    open_must_visits: dict[str, int] = Field(
        description="逾期未访户数 overdue must-visit households per community (E7)"
    )


class ImportKind(LabelledEnum):
    """导入类型 what an upload holds (issue #13): the evaluation service's kinds."""

    training = auto(), "培训学时"
    scores = auto(), "考核评分"


ENUM_LABELS["import_kind"] = labels(ImportKind)
ENUM_LABELS |= IMPORT_LABELS


class ImportJobOut(ImportJobBase):
    kind: ImportKind = Field(description="导入类型 training | scores")
