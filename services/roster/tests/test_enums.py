"""Roster enum codes and their zh-CN labels (P1 three posts)."""

from conftest import ServiceFactory


async def test_three_posts_with_chinese_labels(service_app: ServiceFactory) -> None:
    svc = await service_app("roster")
    enums = (await svc.client.get("/v1/meta/enums")).json()["enums"]
    assert enums["post"] == {"chief": "正职", "deputy": "副职", "staff": "工作人员"}  # P1
    assert set(enums["certificate_level"].values()) == {"助理社会工作师", "社会工作师", "高级社会工作师"}
