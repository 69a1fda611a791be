"""S5 on every day: the county quota holds on each day a worker is employed, whatever year the hire is
dated in; ``quota.used`` answers for the year asked (the fullest day of that year)."""

from __future__ import annotations

from typing import Any

import httpx

from services.roster.tests.conftest import COMMUNITY_A, COUNTY, Roster, id_number


async def set_quota(roster: Roster, year: int, headcount: int) -> None:
    response = await roster.client.put(
        f"/v1/quotas/{COUNTY}/{year}", headers=roster.province_admin, json={"headcount": headcount}
    )
    assert response.status_code == 200, response.text


async def hire(roster: Roster, serial: int, hire_date: str) -> httpx.Response:
    return await roster.client.post(
        "/v1/workers",
        headers={**roster.province_admin, "Accept-Language": "en"},
        json={
            "id_number": id_number(serial),
            "name": f"社工{serial}",
            "community_code": COMMUNITY_A,
            "hire_date": hire_date,
        },
    )


async def leave(roster: Roster, worker: dict[str, Any], left_date: str) -> None:
    url = f"/v1/workers/{worker['id']}"
    etag = (await roster.client.get(url, headers=roster.province_admin)).headers["etag"]
    response = await roster.client.patch(
        url,
        headers={**roster.province_admin, "If-Match": etag},
        json={"status": "left", "left_date": left_date},
    )
    assert response.status_code == 200, response.text


async def used(roster: Roster, year: int) -> int:
    response = await roster.client.get(f"/v1/quotas/{COUNTY}/{year}", headers=roster.county_admin)
    assert response.status_code == 200, response.text
    value: int = response.json()["used"]
    return value


async def test_s5_a_hire_back_dated_into_an_earlier_year_must_fit_every_later_year(roster: Roster) -> None:
    """S5: 2024's quota of 2 is full; a hire dated 2023-06-01 would be on the roll all through 2024 too."""
    await set_quota(roster, 2024, 2)
    for serial in (1, 2):
        assert (await hire(roster, serial, "2024-03-01")).status_code == 201
    back_dated = await hire(roster, 3, "2023-06-01")  # 2023's quota (30) has room, 2024's has not
    assert back_dated.status_code == 422, back_dated.text
    body = back_dated.json()
    assert body["rule"] == "S5"
    assert "2024" in body["detail"]
    assert "2 of 2" in body["detail"]
    (error,) = body["errors"]
    assert (error["pointer"], error["rule"]) == ("/body/hire_date", "S5")
    assert "2024" in error["detail_zh"]
    assert "2024" in error["detail_en"]
    # After 2024 the two are still employed: 2025's quota of 2 is full on every day as well.
    await set_quota(roster, 2024, 3)
    await set_quota(roster, 2025, 2)
    refused_later = await hire(roster, 3, "2023-06-01")
    assert refused_later.status_code == 422
    assert "2025" in refused_later.json()["detail"]


async def test_s5_counts_who_was_employed_on_the_days_not_who_is_employed_now(roster: Roster) -> None:
    """S5: a leaver frees the quota from the day after their leaving date (the last day worked, C6); a
    later hire does not fill an earlier year."""
    await set_quota(roster, 2023, 1)
    first = (await hire(roster, 11, "2023-01-02")).json()
    await leave(roster, first, "2023-07-01")
    early = await hire(roster, 12, "2023-05-01")  # 2023-05-01: the first worker is still employed
    assert early.status_code == 422
    assert early.json()["rule"] == "S5"
    assert (await hire(roster, 12, "2023-07-01")).status_code == 422  # the leaving date is still worked
    assert (await hire(roster, 12, "2023-07-02")).status_code == 201  # from the day after there is room
    await set_quota(roster, 2022, 1)
    assert (await hire(roster, 13, "2022-03-01")).status_code == 422  # would overlap both 2023 workers' year
    await set_quota(roster, 2023, 2)
    assert (await hire(roster, 13, "2022-03-01")).status_code == 201


async def test_s5_quota_used_answers_for_the_year_asked(roster: Roster) -> None:
    """S5: ``used`` is the fullest day of the year asked — not a count of every worker of all years."""
    one = (await hire(roster, 21, "2024-02-01")).json()
    await leave(roster, one, "2025-06-30")
    for serial in (22, 23):
        assert (await hire(roster, serial, "2026-01-05")).status_code == 201
    assert [await used(roster, year) for year in (2023, 2024, 2025, 2026)] == [0, 1, 1, 2]
    put = await roster.client.put(f"/v1/quotas/{COUNTY}/2024", headers=roster.province_admin, json={"headcount": 5})
    assert put.json()["used"] == 1


async def test_s5_compliance_report_counts_the_day_of_the_report(roster: Roster) -> None:
    """S5: the staffing report's quota use is the headcount on its date, by the same count."""
    one = (await hire(roster, 31, "2024-02-01")).json()
    await leave(roster, one, "2025-06-30")
    assert (await hire(roster, 32, "2026-01-05")).status_code == 201

    async def on(day: str) -> int:
        report = await roster.client.get(
            "/v1/reports/staffing", headers=roster.county_admin, params={"region": COUNTY, "date": day}
        )
        assert report.status_code == 200, report.text
        (quota,) = [q for q in report.json()["quotas"] if q["county_code"] == COUNTY]
        value: int = quota["used"]
        return value

    days = ("2024-01-31", "2024-02-01", "2025-06-30", "2025-07-01", "2026-01-05")
    assert [await on(day) for day in days] == [0, 1, 1, 0, 1]  # the leaving date is worked (C6)


async def test_s5_a_person_hired_again_counts_in_the_years_of_the_first_employment(roster: Roster) -> None:
    """S5 counts employments, not the person's latest hire date: someone who worked in 2023, left and was
    hired again in 2026 still filled a 2023 place."""
    await set_quota(roster, 2023, 1)
    await set_quota(roster, 2026, 5)
    first = (await hire(roster, 41, "2023-01-02")).json()
    await leave(roster, first, "2023-06-30")
    again = await hire(roster, 41, "2026-01-05")
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first["id"]  # one person record
    assert (await hire(roster, 42, "2023-03-01")).status_code == 422  # 2023-03: the first employment is on
    assert (await hire(roster, 42, "2023-07-01")).status_code == 201
