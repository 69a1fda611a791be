"""Staffing compliance report: each finding names its rule, with the documents' numbers (S1–S8, P2, P3)."""

from __future__ import annotations

from typing import Any

from services.roster.tests.conftest import COMMUNITY_A, COMMUNITY_B, COMMUNITY_C, COUNTY, Roster


def by_code(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]: c for c in report["communities"]}


async def staff(roster: Roster, first_serial: int, count: int, community: str, **fields: Any) -> list[dict[str, Any]]:
    return [await roster.hire(first_serial + n, community=community, **fields) for n in range(count)]


async def test_county_report_with_the_documents_numbers(roster: Roster) -> None:
    a = await staff(roster, 0, 6, COMMUNITY_A)  # 2,000 households: 6 required (S1)
    await roster.assign(a[0]["id"], "chief", 10)
    await roster.assign(a[1]["id"], "deputy", 6)
    b = await staff(roster, 10, 6, COMMUNITY_B)  # 2,500 households: 7 required (S2), no chief (P2)
    await roster.assign(b[0]["id"], "deputy", 6)
    c = await staff(roster, 20, 7, COMMUNITY_C, grid_duties=False)  # 3,099 households: 8 required (S2)
    await roster.assign(c[0]["id"], "chief", 10)
    await roster.assign(c[1]["id"], "deputy", 6)
    grid = await roster.hire(30, community=COMMUNITY_A, grid_duties=True)  # S8
    await roster.assign(grid["id"], "staff", 2)

    response = await roster.client.get(
        "/v1/reports/staffing", headers=roster.county_admin, params={"region": COUNTY, "date": "2026-03-01"}
    )
    assert response.status_code == 200
    report = response.json()
    communities = by_code(report)
    assert [
        (communities[x]["required"], communities[x]["actual"]) for x in (COMMUNITY_A, COMMUNITY_B, COMMUNITY_C)
    ] == [
        (6, 7),
        (7, 6),
        (8, 7),
    ]
    assert [f["rule"] for f in communities[COMMUNITY_A]["findings"]] == ["S8"]
    assert sorted(f["rule"] for f in communities[COMMUNITY_B]["findings"]) == ["P2", "S2"]
    (s2,) = communities[COMMUNITY_C]["findings"]
    assert (s2["rule"], s2["expected"], s2["actual"]) == ("S2", 8, 7)
    assert report["findings"] == 4
    assert report["quotas"][0] == {"county_code": COUNTY, "headcount": 30, "used": 20, "findings": []}


async def test_report_on_an_earlier_date_counts_who_was_there_then(roster: Roster) -> None:
    await staff(roster, 40, 6, COMMUNITY_A)
    before = (
        await roster.client.get(
            "/v1/reports/staffing", headers=roster.county_admin, params={"region": COMMUNITY_A, "date": "2025-12-31"}
        )
    ).json()
    assert by_code(before)[COMMUNITY_A]["actual"] == 0
    assert any(f["rule"] == "S1" for f in by_code(before)[COMMUNITY_A]["findings"])


async def test_s5_quota_overrun_and_taizhou_s6_s7(roster: Roster) -> None:
    await roster.region("331000", "台州市", "330000")
    await roster.region("331002", "椒江区", "331000")
    await roster.region("331002001000", "海门街道", "331002")
    await roster.region("331002001001", "社区T", "331002001000", kind="urban", households=1500)
    await roster.client.put("/v1/quotas/331002/2026", headers=roster.province_admin, json={"headcount": 10})
    team = await staff(roster, 50, 6, "331002001001", generalist=False, lives_in_community=False)
    await roster.assign(team[0]["id"], "chief", 10)
    await roster.assign(team[1]["id"], "deputy", 6)
    await roster.client.put("/v1/quotas/331002/2026", headers=roster.province_admin, json={"headcount": 5})
    report = (
        await roster.client.get(
            "/v1/reports/staffing",
            headers={**roster.province_admin, "Accept-Language": "en"},
            params={"region": "331000", "date": "2026-03-01"},
        )
    ).json()
    taizhou = by_code(report)["331002001001"]
    assert sorted(f["rule"] for f in taizhou["findings"]) == ["S6", "S7"]  # Taizhou preset
    (quota,) = report["quotas"]
    assert quota["findings"][0]["rule"] == "S5"
    assert quota["findings"][0]["message"] == "quota exceeded: 6 of 5"


async def test_report_is_scoped(roster: Roster) -> None:
    secretary = roster.as_(("community_secretary", COMMUNITY_A))
    assert (
        await roster.client.get("/v1/reports/staffing", headers=secretary, params={"region": COUNTY})
    ).status_code == 404
    mine = await roster.client.get("/v1/reports/staffing", headers=secretary, params={"region": COMMUNITY_A})
    assert [c["code"] for c in mine.json()["communities"]] == [COMMUNITY_A]
