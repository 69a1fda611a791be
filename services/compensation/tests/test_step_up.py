"""C7: after 3 years in a grade, every year 优秀 or 合格, one grade up from 1 January; preview here
(the apply path, through the roster over HTTP, is in tests/integration)."""

from __future__ import annotations

from services.compensation.domain.step_up import decide
from services.compensation.tests.conftest import Compensation


def test_three_qualifying_years_step_up_one_grade() -> None:
    from datetime import date

    ok = decide(
        "w",
        "staff",
        5,
        date(2023, 1, 1),
        date(2026, 1, 1),
        {2023: "competent", 2024: "excellent", 2025: "competent"},
        3,
    )
    assert (ok.new_grade, ok.years, ok.reason) == (6, [2023, 2024, 2025], "C7")
    weak = decide(
        "w",
        "staff",
        5,
        date(2023, 1, 1),
        date(2026, 1, 1),
        {2023: "competent", 2024: "basically_competent", 2025: "competent"},
        3,
    )
    assert weak.new_grade is None
    assert "2024" in weak.reason
    short = decide(
        "w",
        "staff",
        5,
        date(2023, 6, 1),
        date(2026, 1, 1),
        {2023: "competent", 2024: "competent", 2025: "competent"},
        3,
    )
    assert short.new_grade is None
    top = decide(
        "w",
        "staff",
        12,
        date(2020, 1, 1),
        date(2026, 1, 1),
        {2023: "excellent", 2024: "excellent", 2025: "excellent"},
        3,
    )
    assert top.new_grade is None  # the staff range ends at 12


async def test_preview_through_the_api(compensation: Compensation) -> None:
    steady = await compensation.worker("staff", 5, start="2023-01-01")
    shaky = await compensation.worker("staff", 5, start="2023-01-01")
    grades = {steady: ("competent", "excellent", "competent"), shaky: ("competent", "basically_competent", "competent")}
    await compensation.feed(
        *(
            {"type": "assessment.finalized", "data": {"worker_id": w, "year": year, "grade": g}}
            for w, gs in grades.items()
            for year, g in zip((2023, 2024, 2025), gs, strict=True)
        )
    )
    preview = await compensation.client.post(
        "/v1/step-ups", headers=compensation.county, json={"region_code": "330302", "year": 2026}
    )
    assert preview.status_code == 200, preview.text
    rows = {r["worker_id"]: r for r in preview.json()}
    assert (rows[steady]["new_grade"], rows[steady]["years"], rows[steady]["applied"]) == (6, [2023, 2024, 2025], False)
    assert rows[shaky]["new_grade"] is None
