"""GET /v1/cycles (E1: one cycle per township and year): the caller's regions only, filtered by region, year
and status, newest year first then by township, keyset-paged, and exported whole as a file."""

from __future__ import annotations

from typing import Any

from services.evaluation.tests.conftest import NANHU_SCHEME, TOWNSHIP, Evaluation

OTHER_TOWNSHIP = "330302002000"  # same county 鹿城区
OTHER_COUNTY_TOWNSHIP = "330303001000"  # 龙湾区


async def open_cycle(evaluation: Evaluation, township: str, year: int) -> str:
    county = township[:6]
    admin = evaluation.as_(("county_admin", county))
    scheme = await evaluation.client.put(f"/v1/schemes/{county}/{year}", headers=admin, json=NANHU_SCHEME)
    assert scheme.status_code == 200, scheme.text
    cycle = await evaluation.client.post("/v1/cycles", headers=admin, json={"township_code": township, "year": year})
    assert cycle.status_code == 201, cycle.text
    cycle_id: str = cycle.json()["id"]
    return cycle_id


async def listed(evaluation: Evaluation, headers: dict[str, str], **params: Any) -> list[tuple[str, int, str]]:
    response = await evaluation.client.get("/v1/cycles", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [(c["township_code"], c["year"], c["status"]) for c in response.json()["items"]]


async def test_cycles_of_the_callers_region_filtered_and_newest_first(evaluation: Evaluation) -> None:
    await open_cycle(evaluation, TOWNSHIP, 2025)
    await open_cycle(evaluation, TOWNSHIP, 2026)
    await open_cycle(evaluation, OTHER_TOWNSHIP, 2026)
    await open_cycle(evaluation, OTHER_COUNTY_TOWNSHIP, 2026)
    county = evaluation.county
    assert await listed(evaluation, county) == [
        (TOWNSHIP, 2026, "open"),
        (OTHER_TOWNSHIP, 2026, "open"),
        (TOWNSHIP, 2025, "open"),
    ]  # 龙湾区's cycle is not the 鹿城区 admin's to see
    assert await listed(evaluation, evaluation.township) == [(TOWNSHIP, 2026, "open"), (TOWNSHIP, 2025, "open")]
    assert await listed(evaluation, county, year=2025) == [(TOWNSHIP, 2025, "open")]
    assert await listed(evaluation, county, region=OTHER_TOWNSHIP) == [(OTHER_TOWNSHIP, 2026, "open")]
    assert await listed(evaluation, county, region="330303") == []  # outside the caller's regions: nothing
    assert await listed(evaluation, county, status="closed") == []
    province = evaluation.as_(("province_admin", "330000"))
    assert len(await listed(evaluation, province, year=2026)) == 3


async def test_cycles_are_paged_by_cursor_and_the_cursor_keeps_its_filters(evaluation: Evaluation) -> None:
    for year in (2022, 2023, 2024):
        await open_cycle(evaluation, TOWNSHIP, year)
    first = (await evaluation.client.get("/v1/cycles", headers=evaluation.county, params={"limit": 2})).json()
    assert [c["year"] for c in first["items"]] == [2024, 2023]
    second = (
        await evaluation.client.get(
            "/v1/cycles", headers=evaluation.county, params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [c["year"] for c in second["items"]] == [2022]
    assert second["next_cursor"] is None
    foreign = await evaluation.client.get(
        "/v1/cycles", headers=evaluation.county, params={"limit": 2, "cursor": first["next_cursor"], "year": 2022}
    )
    assert foreign.status_code == 400  # a cursor made for other filters


async def test_bad_filters_are_refused_not_500(evaluation: Evaluation) -> None:
    for params in ({"status": "pending"}, {"year": "1999"}, {"region": "33"}):
        response = await evaluation.client.get("/v1/cycles", headers=evaluation.county, params=params)
        assert response.status_code == 422, (params, response.text)
    worker = await evaluation.client.get(
        "/v1/cycles", headers=evaluation.as_(("worker", "330302001001"), worker_id=evaluation.workers[0])
    )
    assert worker.status_code == 403


async def test_cycles_export_as_csv(evaluation: Evaluation) -> None:
    cycle = await open_cycle(evaluation, TOWNSHIP, 2026)
    response = await evaluation.client.get("/v1/cycles", headers={**evaluation.county, "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body = response.content.decode("utf-8-sig")
    assert cycle in body
    assert TOWNSHIP in body
