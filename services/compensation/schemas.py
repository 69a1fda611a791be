"""Compensation API schemas: the enum codes the API speaks, with their zh-CN labels."""

from enum import StrEnum


class PayrollRunStatus(StrEnum):
    """工资核算状态 payroll run status: draft → calculated → approved → paid."""

    draft = "draft"
    calculated = "calculated"
    approved = "approved"
    paid = "paid"


class PolicyPreset(StrEnum):
    """政策模板 policy profile preset (C2 Wenzhou, C3 Taizhou)."""

    wenzhou = "wenzhou"
    taizhou = "taizhou"


ENUM_LABELS: dict[str, dict[str, str]] = {
    "payroll_run_status": {
        PayrollRunStatus.draft: "草稿",
        PayrollRunStatus.calculated: "已计算",
        PayrollRunStatus.approved: "已审批",
        PayrollRunStatus.paid: "已发放",
    },
    "policy_preset": {PolicyPreset.wenzhou: "温州", PolicyPreset.taizhou: "台州"},
}
