"""Targets (C2, C3) from statistics, scale calibration against them, and the bonus allocation (C5)."""

from __future__ import annotations

from decimal import Decimal

from services.compensation.tests.conftest import TOWNSHIP, Compensation, graded_events


async def test_wenzhou_target_from_statistics_and_raised_to_last_years_actual(compensation: Compensation) -> None:
    county = compensation.county
    put = await compensation.client.put(
        "/v1/reference-statistics/330300/2025/urban_disposable_income",
        headers=compensation.as_(("city_admin", "330300")),
        json={"value": "80000.00", "source": "温州市2025年国民经济和社会发展统计公报"},
    )
    assert put.status_code == 200
    target = (await compensation.client.get("/v1/targets/330302/2026", headers=county)).json()
    assert (target["rule"], target["target_average"]) == ("C2", "96000.00")  # 1.2 × 80,000, the city's figure
    await compensation.client.put(
        "/v1/reference-statistics/330302/2025/community_worker_average_pay",
        headers=county,
        json={"value": "98000.00", "source": "鹿城区2025年社工薪酬统计"},
    )
    raised = (await compensation.client.get("/v1/targets/330302/2026", headers=county)).json()
    assert raised["target_average"] == "98000.00"
    assert "raised" in raised["basis"]


async def test_a_profile_needs_a_source_for_every_parameter_and_a_multiplier_in_range(
    compensation: Compensation,
) -> None:
    unsourced = await compensation.client.put(
        "/v1/policy-profiles/330302/2026",
        headers=compensation.county,
        json={"parameters": {"multiplier": "1.5"}, "sources": {}},
    )
    assert unsourced.status_code == 422
    too_high = await compensation.client.put(
        "/v1/policy-profiles/330302/2026",
        headers=compensation.county,
        json={"parameters": {"multiplier": "1.9"}, "sources": {"multiplier": "x"}},
    )
    assert too_high.json()["rule"] == "C2"


async def test_calibration_meets_the_c2_target_with_the_actual_workforce(compensation: Compensation) -> None:
    await compensation.client.put(
        "/v1/reference-statistics/330302/2025/urban_disposable_income",
        headers=compensation.county,
        json={"value": "75000.00", "source": "统计公报"},
    )
    for post, grade in (("chief", 10), ("deputy", 6), ("staff", 3), ("staff", 4), ("staff", 5)):
        await compensation.worker(post, grade, start="2025-01-05")
    calibrated = await compensation.client.post(
        "/v1/pay-scales/330302/2026/calibrate",
        headers=compensation.county,
        json={"post_factors": {"chief": "1.3", "deputy": "1.1", "staff": "1.0"}, "step": "0.04"},
    )
    assert calibrated.status_code == 200, calibrated.text
    body = calibrated.json()
    assert body["targets"]["target_average"] == "90000.00"  # 1.2 × 75,000
    assert abs(Decimal(body["projected_average"]["all"]) - Decimal("90000.00")) <= Decimal(
        "0.05"
    )  # cent rounding of cells
    assert len(body["cells"]) == 54


async def test_bonus_pool_shared_to_the_cent_with_the_countys_coefficients(compensation: Compensation) -> None:
    workers = [await compensation.worker(start="2025-01-05") for _ in range(3)]
    late = await compensation.worker(start="2025-07-02")  # half a year in post
    grades = ["excellent", "competent", "incompetent", "competent"]
    await compensation.feed(*graded_events([*workers, late], tuple(grades), 2025))
    missing = await compensation.client.post(
        "/v1/bonus-allocations",
        headers=compensation.township,
        json={"township_code": TOWNSHIP, "year": 2025, "pool": "50000.00"},
    )
    assert missing.json()["rule"] == "C5"  # no preset coefficients: the county must set them
    await compensation.client.put(
        "/v1/policy-profiles/330302/2025",
        headers=compensation.county,
        json={
            "parameters": {
                "bonus_coefficients": {
                    "excellent": "1.2",
                    "competent": "1.0",
                    "basically_competent": "0.8",
                    "incompetent": "0",
                }
            },
            "sources": {"bonus_coefficients": "鹿城区绩效奖金分配办法"},
        },
    )
    allocated = await compensation.client.post(
        "/v1/bonus-allocations",
        headers=compensation.township,
        json={"township_code": TOWNSHIP, "year": 2025, "pool": "50000.00"},
    )
    assert allocated.status_code == 201, allocated.text
    shares = {s["worker_id"]: s for s in allocated.json()["shares"]}
    assert sum(Decimal(s["share"]) for s in shares.values()) == Decimal("50000.00")
    assert shares[workers[2]]["share"] == "0.00"  # 不合格
    assert Decimal(shares[late]["months"]) < Decimal("6.1")
    assert Decimal(shares[workers[0]]["share"]) > Decimal(shares[workers[1]]["share"]) > Decimal(shares[late]["share"])


async def test_calibration_refuses_factors_missing_a_post_naming_it(compensation: Compensation) -> None:
    """C4: the scale has all three posts; a calibration without the staff post's factor (or with a factor of 0)
    is a 422 naming each missing factor, not a failure half-way."""
    await compensation.worker("staff", 3, start="2025-01-05")
    before = (await compensation.client.get("/v1/pay-scales/330302/2026", headers=compensation.county)).json()
    refused = await compensation.client.post(
        "/v1/pay-scales/330302/2026/calibrate",
        headers=compensation.county,
        json={"post_factors": {"chief": "1.3", "deputy": "0"}, "step": "0.04"},
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["rule"] == "C4"
    assert sorted(e["field"] for e in body["errors"]) == ["post_factors.deputy", "post_factors.staff"]
    after = await compensation.client.get("/v1/pay-scales/330302/2026", headers=compensation.county)
    assert after.json() == before  # nothing stored


async def test_a_county_level_change_checks_its_region_where_it_is_parsed(compensation: Compensation) -> None:
    """``region_to_change`` (shared.dependencies): the path's county is checked as it is read — a county admin
    of another county finds no such region (404 naming it), an auditor of the county may only read it (403);
    the county's own admin changes it (ARCHITECTURE rule 7)."""
    cells = [{"post": "staff", "grade": 1, "annual_amount": "80000.00"}]
    elsewhere = compensation.as_(("county_admin", "330303"))
    outside = await compensation.client.put("/v1/pay-scales/330302/2026", headers=elsewhere, json={"cells": cells})
    assert outside.status_code == 404
    assert "330302" in outside.json()["detail"]
    auditor = compensation.as_(("auditor", "330302"))
    read_only = await compensation.client.put("/v1/pay-scales/330302/2026", headers=auditor, json={"cells": cells})
    assert read_only.status_code == 403
    county = compensation.county
    own = await compensation.client.put("/v1/pay-scales/330302/2026", headers=county, json={"cells": cells})
    assert own.status_code == 200, own.text
    assert (await compensation.client.get("/v1/pay-scales/330302/2026", headers=auditor)).status_code == 200


async def test_a_report_refuses_a_region_outside_the_scope_as_missing(compensation: Compensation) -> None:
    """``RegionInScope`` (shared.dependencies): a report's region the caller cannot see does not exist for it
    (404 naming the region); inside the scope the report runs (here it lacks the C2 statistic: 422 naming C2)."""
    elsewhere = compensation.as_(("county_admin", "330303"))
    params: dict[str, str | int] = {"region": "330302", "year": 2026}
    outside = await compensation.client.get("/v1/reports/pay-compliance", headers=elsewhere, params=params)
    assert outside.status_code == 404
    assert "330302" in outside.json()["detail"]
    inside = await compensation.client.get("/v1/reports/pay-compliance", headers=compensation.county, params=params)
    assert (inside.status_code, inside.json()["rule"]) == (422, "C2")
