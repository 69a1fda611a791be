"""Evaluation enum codes and their zh-CN labels (E3 four grades, E7 six must-visit categories)."""

from conftest import ServiceFactory


async def test_four_grades_and_six_must_visit_categories(service_app: ServiceFactory) -> None:
    svc = await service_app("evaluation")
    enums = (await svc.client.get("/v1/meta/enums")).json()["enums"]
    assert list(enums["assessment_grade"].values()) == ["优秀", "合格", "基本合格", "不合格"]  # E3
    assert len(enums["must_visit_category"]) == 6  # E7 六必访
    assert len(enums["timely_type"]) == 4  # E7 四及时
