"""Compensation enum codes and their zh-CN labels (payroll run states, C2/C3 presets)."""

from conftest import ServiceFactory
from services.compensation.schemas import PayrollRunStatus


async def test_payroll_states_and_policy_presets(service_app: ServiceFactory) -> None:
    svc = await service_app("compensation")
    enums = (await svc.client.get("/v1/meta/enums")).json()["enums"]
    # Every state a run can be in has its label (a client shows failed and cancelled runs too).
    assert list(enums["payroll_run_status"]) == [s.value for s in PayrollRunStatus]
    assert enums["payroll_run_status"]["failed"] == "核算失败"
    assert enums["payroll_run_status"]["cancelled"] == "已撤销"
    assert enums["policy_preset"] == {"wenzhou": "温州", "taizhou": "台州"}
