"""Compensation API schemas: the enum codes the API speaks, with their zh-CN labels."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import auto
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.import_schemas import IMPORT_LABELS, ImportJobBase
from shared.inputs import MONTH_PATTERN, Money, Year
from shared.labelled import LabelledEnum, labels
from shared.regions import RegionCode, TownshipCode
from shared.vocabulary import AssessmentGrade, Grade, Post


class PayrollRunStatus(LabelledEnum):
    """工资核算状态 payroll run status: draft → calculated → approved → paid; a large run is ``calculating``
    meanwhile; a calculation that fails or whose process dies ends ``failed`` with no lines (calculate
    again); ``cancelled`` frees its workers' month; ``reversed``: an approved run taken back before it was paid,
    which frees its workers' month too."""

    draft = auto(), "草稿"
    calculating = auto(), "核算中"
    calculated = auto(), "已核算"
    approved = auto(), "已审批"
    paid = auto(), "已发放"
    failed = auto(), "核算失败"
    cancelled = auto(), "已撤销"
    reversed = auto(), "已冲销"


# A run whose lines (payslips, corrections, bonus payouts) stand: they hold their workers' months.
LIVE_RUNS = (
    PayrollRunStatus.calculating,
    PayrollRunStatus.calculated,
    PayrollRunStatus.approved,
    PayrollRunStatus.paid,
)


class PolicyPreset(LabelledEnum):
    """政策模板 policy profile preset (C2 Wenzhou, C3 Taizhou)."""

    wenzhou = auto(), "温州"
    taizhou = auto(), "台州"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "payroll_run_status": labels(PayrollRunStatus),
    "policy_preset": labels(PolicyPreset),
}


MONEY = '金额 decimal string with two places, e.g. "5833.33"'


PARAMETERS_DESCRIPTION = (
    "参数 overrides: multiplier (C2), post_floors (C3), base_share (C5), certificate_allowances (C8), "
    "grade_step_years (C7), joining_month (C6), bonus_coefficients (C5), recuperation_* (C10), "
    "employee_rates, employer_rates, contribution_base_min/max (C9); a map lists every key"
)


class ProfileIn(BaseModel):
    """The whole profile document: ``PUT`` replaces the stored one with it (to change some overrides, PATCH)."""

    model_config = ConfigDict(extra="forbid")
    preset: PolicyPreset | None = Field(
        None, description="政策模板 start from wenzhou (C2) or taizhou (C3); absent or null: the city's own preset"
    )
    parameters: dict[str, Any] = Field(
        description=PARAMETERS_DESCRIPTION + "; required: overrides not listed are removed"
    )
    sources: dict[str, str] = Field(description="来源 parameter → the document it comes from (every parameter has one)")


class ProfilePatch(BaseModel):
    """JSON Merge Patch (RFC 7396) of a profile document: members present replace, ``null`` removes (an
    override, its source, or the preset); maps merge key by key."""

    model_config = ConfigDict(extra="forbid")
    preset: PolicyPreset | None = Field(None, description="政策模板 wenzhou or taizhou; null removes it")
    parameters: dict[str, Any] | None = Field(
        None, description=PARAMETERS_DESCRIPTION + "; a parameter set to null is removed"
    )
    sources: dict[str, str | None] | None = Field(None, description="来源 parameter → source; null removes")


class StatisticIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Money = Field(gt=0, description="数值 " + MONEY)
    source: str = Field(min_length=1, max_length=300, description="来源 the statistical bulletin it comes from")


class StatisticKind(LabelledEnum):
    """统计指标 the statistic a target is computed from."""

    urban_disposable_income = auto(), "城镇常住居民人均可支配收入"  # C2 城镇常住居民人均可支配收入
    average_wage_all_employed = auto(), "全社会单位就业人员年平均工资"  # C3 全社会单位就业人员年平均工资
    community_worker_average_pay = auto(), "社区工作者上年实际平均工资"  # C2 社工上年实际平均工资


ENUM_LABELS["statistic_kind"] = labels(StatisticKind)


class TargetOut(BaseModel):
    region_code: str
    year: int
    rule: str = Field(description="政策规则 C2 or C3")
    target_average: Decimal | None = Field(description="目标年平均工资 C2 target")
    post_floors: dict[str, Decimal] | None = Field(description="分岗位下限 C3 floors per post")
    basis: str = Field(description="依据 how the target was computed")


class ScaleCellIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post: Post = Field(description="岗位 post (C4)")
    grade: Grade = Field(description="等级 grade (C4)")
    annual_amount: Money = Field(description="年薪 annual pay of the cell, " + MONEY)


class ScaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cells: list[ScaleCellIn] = Field(min_length=1, max_length=54, description="薪酬表 3 posts × 18 grades (C4)")


class CalibrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post_factors: dict[Post, Decimal] = Field(
        description="岗位系数 relative level of each post's grade 1, e.g. chief 1.3"
    )
    step: Decimal = Field(gt=0, lt=1, description="级差 relative step between grades, e.g. 0.04")


class ScaleOut(BaseModel):
    region_code: str
    year: int
    cells: list[ScaleCellIn]
    projected_average: dict[str, Decimal] | None = Field(
        None, description="预计平均工资 projected average per post and overall"
    )
    targets: TargetOut | None = Field(None, description="目标 the policy target it was calibrated against")


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_code: RegionCode = Field(description="核算范围 a township, or a county or city at once")
    month: str = Field(pattern=MONTH_PATTERN, description="月份 YYYY-MM")


class CoveringRun(BaseModel):
    """另一工资核算批次 another run of the same month that already holds some of this run's workers."""

    run_id: uuid.UUID
    region_code: str
    status: PayrollRunStatus
    workers: int | None = Field(description="人数 workers of this run it holds (null: unfinished, holds none yet)")


class RunOut(BaseModel):
    id: uuid.UUID
    region_code: str
    month: str
    status: PayrollRunStatus
    workers: int = Field(description="人数 workers paid")
    gross_total: Decimal = Field(description="应发合计 earnings, " + MONEY)
    net_total: Decimal = Field(description="实发合计 after the worker's deductions")
    employer_total: Decimal = Field(description="单位缴纳合计 employer contributions, not pay (C1)")
    calculated_by: str | None = Field(
        None, description="核算人 who asked for the last calculation; another person approves the run"
    )
    approved_by: str | None = Field(description="审批人 who approved")
    approved_at: datetime | None = Field(description="审批时间 when")
    calculated_at: datetime | None = Field(None, description="核算时间 the data the lines were computed from")
    failure: str | None = Field(None, description="失败原因 why the last calculation failed (status failed)")
    excluded: list[CoveringRun] = Field(
        default_factory=list,
        description="剔除 workers left out because another run of the month already pays them (overlap=exclude)",
    )
    reversed_by: str | None = Field(None, description="冲销人 who reversed the approved run")
    reversed_at: datetime | None = Field(None, description="冲销时间 when")
    reversal_reason: str | None = Field(None, description="冲销原因 why")
    version: int


class ReversalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=1, max_length=300, description="冲销原因 why the approved run is taken back (kept on the run)"
    )


class LineOut(BaseModel):
    kind: str = Field(
        description=(
            "项目 base, certificate_allowance, bonus, adjustment, pension, medical, unemployment, housing_fund, "
            "income_tax, employer_*"
        )
    )
    amount: Decimal = Field(description="金额 earnings positive, deductions negative")
    basis: str | None = Field(description="计算依据 how it was computed")


class PayslipOut(BaseModel):
    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    month: str
    run_id: uuid.UUID
    status: PayrollRunStatus
    lines: list[LineOut]
    gross: Decimal = Field(description="应发 earnings")
    net: Decimal = Field(description="实发 net pay")
    employer: Decimal = Field(description="单位缴纳 employer contributions (C1: not pay)")


BonusPool = Annotated[Money, Field(description="奖金总额 the township's pool (C5), " + MONEY)]


class BonusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_code: TownshipCode = Field(description="乡镇（街道） township")
    year: Year = Field(description="年度 year assessed")
    pool: BonusPool


class BonusShare(BaseModel):
    worker_id: uuid.UUID
    grade: AssessmentGrade = Field(description="考核等次 grade (E3)")
    months: Decimal = Field(description="在岗月数 months in post in the year")
    coefficient: Decimal = Field(description="系数 the county's coefficient for the grade (C5)")
    share: Decimal = Field(description="奖金 share of the pool, " + MONEY)


class BonusReplaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: BonusPool
    reason: str = Field(
        min_length=1, max_length=300, description="更正原因 why the allocation is replaced (kept in the ledger)"
    )


class BonusOut(BaseModel):
    id: uuid.UUID
    township_code: str
    year: int
    pool: Decimal
    shares: list[BonusShare]
    live: bool = Field(description="有效 the township's allocation for the year; false once replaced (C5)")
    created_by: str = Field(description="分配人 who allocated")
    created_at: datetime = Field(description="分配时间 when")
    replaces: uuid.UUID | None = Field(description="更正自 the allocation this one replaced and reversed")
    reason: str | None = Field(description="更正原因 why it replaced that one")
    replaced_by: uuid.UUID | None = Field(description="已被更正为 the allocation that replaced this one")
    reversed_at: datetime | None = Field(description="冲销时间 when the replacement reversed this one")
    reversed_by: str | None = Field(description="冲销人 who replaced it")


class BonusPayoutOut(BaseModel):
    """What one live payroll run pays of a worker's bonus of a township and year (C5): the live allocation's
    share less what other live runs pay of it; negative when a replacement lowered a share already paid."""

    worker_id: uuid.UUID
    allocation_id: uuid.UUID = Field(description="分配 the allocation live when the payout was computed")
    run_id: uuid.UUID = Field(description="工资核算批次 the payroll run that pays it")
    month: str = Field(description="发放月份 the run's month, YYYY-MM")
    run_status: PayrollRunStatus = Field(description="批次状态 calculating, calculated, approved or paid")
    amount: Decimal = Field(description="金额 paid in this run (negative: taken back), " + MONEY)
    basis: str = Field(description="依据 the year, township, allocation, the share and what was paid before")


class PayPolicyOut(BaseModel):
    """薪酬政策 the pay policy in force for a region and year (profiles walked up the tree over the preset)."""

    preset: str = Field(description="模板 wenzhou, taizhou or general")
    target_method: str = Field(description="目标口径 disposable_income (C2) or post_floors (C3)")
    multiplier: Decimal = Field(description="倍数 × last year's urban disposable income (C2: 1.2, up to 1.8)")
    multiplier_max: Decimal = Field(description="倍数上限 (C2: 1.8)")
    post_floors: dict[str, Decimal] = Field(description="分岗位下限系数 × average wage (C3: 1.3 / 1.1 / 1.0)")
    base_share: Decimal = Field(description="基础工资占比 (C5: 0.70)")
    certificate_allowances: dict[str, Decimal] = Field(description="证书津贴 monthly, by level (C8)")
    grade_step_years: int = Field(description="晋档年限 (C7: 3)")
    joining_month: str = Field(description="入职当月 full or prorate (C6)")
    bonus_coefficients: dict[str, Decimal] | None = Field(description="奖金系数 by grade (C5; the county's, no preset)")
    recuperation_per_day: Decimal = Field(description="疗休养每天上限 (C10: 400)")
    recuperation_days: int = Field(description="疗休养天数上限 (C10: 5)")
    recuperation_per_year: Decimal = Field(description="疗休养每年上限 (C10: 2,000)")
    recuperation_every_years: int = Field(description="疗休养周期年数 (C10: 2)")
    employee_rates: dict[str, Decimal] = Field(description="个人缴费比例 social insurance and housing fund (C9)")
    employer_rates: dict[str, Decimal] = Field(description="单位缴费比例 (C9; not pay, C1)")
    contribution_base_min: Decimal = Field(description="缴费基数下限 (C9)")
    contribution_base_max: Decimal = Field(description="缴费基数上限 (C9)")
    monthly_standard_deduction: Decimal = Field(description="个税基本减除费用 monthly (5,000)")


class BudgetOut(BaseModel):
    county_code: str = Field(description="县级区划代码 county")
    year: int = Field(description="预算年度 year budgeted")
    workers: int = Field(description="在岗人数 workers in post on 1 January")
    quota: int | None = Field(description="员额 the county's quota (S5), from the roster's feed")
    vacancies: int = Field(description="空编 quota not filled, budgeted at the average of the scale")
    pay: Decimal = Field(description="岗位工资 annual pay of the workers' cells (C4)")
    certificate_allowances: Decimal = Field(description="证书津贴 (C8) × 12")
    vacancy_pay: Decimal = Field(description="空编预算 vacancies × average pay")
    employer_contributions: Decimal = Field(description="单位缴纳 employer contributions (C9)")
    total: Decimal = Field(description="预算合计 the year's pay budget (C11)")
    rule: str = Field(description="政策规则 C11")


class PostPay(BaseModel):
    average_annual_pay: Decimal = Field(
        description="年平均工资 annualised from approved payslips (C1: without employer parts)"
    )
    worker_months: int = Field(description="人月数 payslips counted")


class PayFinding(BaseModel):
    rule: str = Field(description="政策规则 C2 or C3")
    post: str = Field(description="岗位 a post, or all")
    expected: Decimal = Field(description="应达 the target")
    actual: Decimal = Field(description="实际 the actual average")


class PayComplianceOut(BaseModel):
    region: str
    year: int
    average_annual_pay: Decimal = Field(description="年平均工资 overall")
    posts: dict[str, PostPay] = Field(description="分岗位 per post")
    target: TargetOut = Field(description="目标 C2 or C3")
    findings: list[PayFinding] = Field(description="未达标 breaches, each with its rule")


class ContributionShortfall(BaseModel):
    kind: str = Field(
        description=(
            "项目 pension, medical, unemployment, housing_fund (the worker's) or employer_pension, "
            "employer_medical, employer_unemployment, employer_injury, employer_housing_fund"
        )
    )
    expected: Decimal = Field(description="应缴 contribution base × rate, to the cent (C9), " + MONEY)
    actual: Decimal = Field(description="实缴 on the payslip, " + MONEY)
    missing: bool = Field(description="未缴 nothing paid at all")


class ContributionFindingOut(BaseModel):
    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    community_code: str = Field(description="社区 community")
    month: str = Field(description="月份 YYYY-MM")
    run_id: uuid.UUID = Field(description="工资核算批次 the approved or paid run")
    run_status: str = Field(description="批次状态 approved or paid")
    wage: Decimal = Field(description="月工资 base wage + certificate allowance of the month (C5, C8)")
    contribution_base: Decimal = Field(description="缴费基数 the wage within the year's floor and cap (C9)")
    shortfalls: list[ContributionShortfall] = Field(description="不足 contributions missing or below what is due")
    rule: str = Field(description="政策规则 C9")


class ContributionReportOut(BaseModel):
    region_code: str
    month: str = Field(description="月份 YYYY-MM")
    rule: str = Field(description="政策规则 C9: social insurance and housing fund paid in full for every worker")
    payslips_checked: int = Field(description="核查工资条数 payslips of approved and paid runs in the region")
    findings: list[ContributionFindingOut] = Field(description="问题 worker-months not paid in full")


class RecuperationDueRow(BaseModel):
    """A worker with no recuperation in the last years (C10)."""

    worker_id: str
    name: str = Field(description="姓名 name")
    community_code: str
    rule: str = Field(description="政策规则 C10")


class ImportKind(LabelledEnum):
    """导入类型 what an upload holds (issue #13): the compensation service's kinds."""

    statistics = auto(), "统计数据"


ENUM_LABELS["import_kind"] = labels(ImportKind)
ENUM_LABELS |= IMPORT_LABELS


class ImportJobOut(ImportJobBase):
    kind: ImportKind = Field(description="导入类型 statistics")


class StepUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_code: RegionCode = Field(description="区划 region (a county, usually)")
    year: Year = Field(description="晋档年度 step-ups take effect on 1 January of this year (C7)")
    apply: bool = Field(False, description="执行 send the new grades to the roster; false: preview only")


class StepUpRow(BaseModel):
    worker_id: str
    post: str = Field(description="岗位 post")
    grade: int = Field(description="现等级 current grade")
    new_grade: int | None = Field(description="新等级 the grade from 1 January, or null")
    years: list[int] = Field(description="考核年度 the assessment years examined (C7)")
    reason: str = Field(description="说明 C7, or why not")
    applied: bool = Field(description="已提交花名册 the roster confirmed the new grade")
    order_status: str | None = Field(
        None, description="指令状态 pending (to be sent again) | confirmed | rejected; null when not applied"
    )


class StepUpOrderOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    post: str = Field(description="岗位 post")
    grade: int = Field(description="新等级 the new grade (C7)")
    effective: date = Field(description="生效日期 1 January of the step-up year")
    status: str = Field(description="指令状态 pending | sending | confirmed | rejected")
    attempts: int = Field(description="发送次数 times sent")
    last_error: str | None = Field(description="最近错误 why the last attempt did not confirm")


class RecuperationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: uuid.UUID = Field(description="社工编号 worker")
    start_date: date = Field(description="开始日期 start; the claim counts to this year's allowance")
    days: int = Field(ge=1, le=30, description="天数 days (C10: at most 5; more is refused)")
    amount: Money = Field(
        gt=0,
        description="申请金额 cost claimed (C10: allowed ≤ 400 a day, ≤ 2,000 a year), " + MONEY,
    )
    note: str | None = Field(None, max_length=200, description="备注 note")


class ReductionOut(BaseModel):
    rule: str = Field(description="政策规则 C10")
    code: str = Field(description="核减原因 per_day_cap (400 a day) or year_allowance (2,000 a year)")
    zh: str = Field(description="说明（中文）")
    en: str = Field(description="说明（英文） explanation in English")


class RecuperationOut(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    name: str = Field(description="姓名 name")
    community_code: str = Field(description="社区 community")
    start_date: date
    days: int = Field(description="天数 days")
    amount_requested: Decimal = Field(description="申请金额 cost claimed, " + MONEY)
    amount_allowed: Decimal = Field(description="核准金额 allowed within the caps (C10), " + MONEY)
    reductions: list[ReductionOut] = Field(description="核减原因 why less was allowed than asked (C10)")
    note: str | None = Field(description="备注 note")
    created_by: str = Field(description="录入人 who recorded it")
    created_at: datetime = Field(description="录入时间 when")
    year: int = Field(description="年度 the allowance year (of the start date)")
    year_used: Decimal = Field(description="本年已用 allowed to the worker this year so far (C10)")
    year_left: Decimal = Field(description="本年剩余 left of the year's allowance (C10: 2,000)")
