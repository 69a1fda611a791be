"""Compensation enum codes and their zh-CN labels (payroll run states, C2/C3 presets)."""

from conftest import ServiceFactory


async def test_payroll_states_and_policy_presets(service_app: ServiceFactory) -> None:
    svc = await service_app("compensation")
    enums = (await svc.client.get("/v1/meta/enums")).json()["enums"]
    assert list(enums["payroll_run_status"]) == ["draft", "calculating", "calculated", "approved", "paid", "reversed"]
    assert enums["policy_preset"] == {"wenzhou": "温州", "taizhou": "台州"}
