"""Contracts (H3, H4, H7, H8), secondments (H6), transfers (H5), recruitment and reserve (H1, H2),
the renewal worklist and career eligibility (K1, K2) through the API."""

from __future__ import annotations

from sqlalchemy import text

from services.roster.tests.conftest import (
    COMMUNITY_A,
    COMMUNITY_B,
    COUNTY,
    NEXT_COMMUNITY,
    NEXT_COUNTY,
    Roster,
    id_number,
)


async def test_first_contract_one_year_with_probation_then_contiguous_renewal(roster: Roster) -> None:
    worker = await roster.hire(1, hire_date="2023-01-05", certificate_level="assistant", certificate_date="2024-05-01")
    url = f"/v1/workers/{worker['id']}/contracts"
    first = await roster.client.post(url, headers=roster.county_admin, json={"start_date": "2023-01-05"})
    assert first.status_code == 201, first.text
    assert (first.json()["end_date"], first.json()["probation_end"]) == ("2024-01-05", "2023-07-05")  # H3, H4
    assert first.json()["township_code"] == "330302001000"
    gap = await roster.client.post(url, headers=roster.county_admin, json={"start_date": "2024-02-01"})
    assert gap.json()["rule"] == "H3"
    renewal = await roster.client.post(url, headers=roster.county_admin, json={"start_date": "2024-01-05"})
    assert renewal.status_code == 201
    assert renewal.json()["probation_end"] is None
    assert renewal.json()["renewal_of"] == first.json()["id"]


async def test_h7_no_renewal_without_a_certificate_three_years_after_hire(roster: Roster) -> None:
    worker = await roster.hire(2, hire_date="2023-01-05")
    url = f"/v1/workers/{worker['id']}/contracts"
    for start in ("2023-01-05", "2024-01-05", "2025-01-05"):
        assert (
            await roster.client.post(url, headers=roster.county_admin, json={"start_date": start})
        ).status_code == 201
    refused = await roster.client.post(url, headers=roster.county_admin, json={"start_date": "2026-01-05"})
    assert refused.status_code == 422
    assert refused.json()["rule"] == "H7"
    worklist = (
        await roster.client.get(
            "/v1/reports/renewals", headers=roster.county_admin, params={"region": COUNTY, "year": 2026}
        )
    ).json()
    (row,) = [r for r in worklist if r["worker_id"] == worker["id"]]
    assert row["renewable"] is False
    assert [b["rule"] for b in row["bars"]] == ["H7"]


async def test_h8_two_consecutive_incompetent_years_block_the_renewal(roster: Roster) -> None:
    worker = await roster.hire(
        3, hire_date="2024-01-05", certificate_level="social_worker", certificate_date="2024-06-01"
    )
    url = f"/v1/workers/{worker['id']}/contracts"
    for start in ("2024-01-05", "2025-01-05"):
        assert (
            await roster.client.post(url, headers=roster.county_admin, json={"start_date": start})
        ).status_code == 201
    async with roster.service.app.state.sessionmaker() as session:
        for year in (2024, 2025):
            await session.execute(
                text("INSERT INTO roster.assessment_results (worker_id, year, grade) VALUES (:w, :y, 'incompetent')"),
                {"w": worker["id"], "y": year},
            )
        await session.commit()
    refused = await roster.client.post(url, headers=roster.county_admin, json={"start_date": "2026-01-05"})
    assert refused.json()["rule"] == "H8"


async def test_h6_loans_need_approval_and_last_six_months(roster: Roster) -> None:
    worker = await roster.hire(4)
    url = f"/v1/workers/{worker['id']}/secondments"
    base = {"kind": "loan", "host": "区民政局", "start_date": "2026-03-01"}
    long_loan = await roster.client.post(
        url, headers=roster.county_admin, json=base | {"end_date": "2026-09-02", "approval": "鹿组〔2026〕9号"}
    )
    assert long_loan.json()["rule"] == "H6"
    no_approval = await roster.client.post(url, headers=roster.county_admin, json=base | {"end_date": "2026-06-01"})
    assert no_approval.json()["rule"] == "H6"
    ok = await roster.client.post(
        url, headers=roster.county_admin, json=base | {"end_date": "2026-09-01", "approval": "鹿组〔2026〕9号"}
    )
    assert ok.status_code == 201
    practice = await roster.client.post(
        url,
        headers=roster.county_admin,
        json={"kind": "practice", "host": "街道", "start_date": "2026-01-01", "end_date": "2027-01-02"},
    )
    assert practice.json()["rule"] == "H6"


async def test_h5_transfer_only_after_two_years(roster: Roster) -> None:
    fresh = await roster.hire(5, hire_date="2025-06-01")
    early = await roster.client.post(
        f"/v1/workers/{fresh['id']}/transfers",
        headers=roster.county_admin,
        json={"to_community": COMMUNITY_B, "effective_date": "2026-06-01"},
    )
    assert early.json()["rule"] == "H5"
    senior = await roster.hire(6, hire_date="2024-01-05")
    await roster.assign(senior["id"], "staff", 4, start="2024-01-05")
    moved = await roster.client.post(
        f"/v1/workers/{senior['id']}/transfers",
        headers=roster.county_admin,
        json={"to_community": COMMUNITY_B, "effective_date": "2026-03-01"},
    )
    assert moved.status_code == 201
    after = (await roster.client.get(f"/v1/workers/{senior['id']}", headers=roster.county_admin)).json()
    assert after["community_code"] == COMMUNITY_B
    posts = (await roster.client.get(f"/v1/workers/{senior['id']}/posts", headers=roster.county_admin)).json()
    assert posts[-1]["end_date"] == "2026-03-01"
    # The county admin cannot move a worker into a community it cannot see.
    away = await roster.client.post(
        f"/v1/workers/{senior['id']}/transfers",
        headers=roster.county_admin,
        json={"to_community": NEXT_COMMUNITY, "effective_date": "2026-04-01"},
    )
    assert away.status_code == 404


async def test_h1_h2_rounds_and_a_reserve_of_at_most_one_to_one(roster: Roster) -> None:
    created = await roster.client.post(
        "/v1/recruitment-rounds",
        headers=roster.county_admin,
        json={
            "county_code": COUNTY,
            "channel": "recruitment",
            "announced_on": "2026-03-01",
            "hires": 2,
            "title": "2026年鹿城区社工招聘",
        },
    )
    assert created.status_code == 201
    round_id = created.json()["id"]
    candidates = [{"name": f"候选{n}", "id_number": id_number(80 + n), "score": f"{80 - n}.50"} for n in range(3)]
    too_many = await roster.client.post(
        f"/v1/recruitment-rounds/{round_id}/reserve", headers=roster.county_admin, json={"candidates": candidates}
    )
    assert too_many.json()["rule"] == "H2"
    ok = await roster.client.post(
        f"/v1/recruitment-rounds/{round_id}/reserve", headers=roster.county_admin, json={"candidates": candidates[:2]}
    )
    assert ok.json()["reserve_used"] == 2
    pool = (await roster.client.get("/v1/reserve-pool", headers=roster.county_admin, params={"county": COUNTY})).json()
    assert [(e["name"], e["rank"], e["score"]) for e in pool] == [("候选0", 1, "80.50"), ("候选1", 2, "79.50")]
    # The next round's announcement (already made) ends the earlier reserve.
    await roster.client.post(
        "/v1/recruitment-rounds",
        headers=roster.county_admin,
        json={
            "county_code": COUNTY,
            "channel": "election",
            "announced_on": "2026-06-01",
            "hires": 1,
            "title": "换届选任",
        },
    )
    assert (
        await roster.client.get("/v1/reserve-pool", headers=roster.county_admin, params={"county": COUNTY})
    ).json() == []


async def test_k1_career_eligibility_of_wenzhou_chiefs(roster: Roster) -> None:
    long_serving = await roster.hire(7, hire_date="2019-01-01")
    await roster.assign(long_serving["id"], "chief", 12, start="2019-01-01")
    newer = await roster.hire(8, hire_date="2022-01-01", community=COMMUNITY_B)
    await roster.assign(newer["id"], "chief", 10, start="2022-01-01")
    rows = (
        await roster.client.get(
            "/v1/reports/career-eligibility",
            headers=roster.county_admin,
            params={"region": COUNTY, "date": "2025-06-01"},
        )
    ).json()
    assert [(r["worker_id"], r["rule"], r["required_years"]) for r in rows] == [(long_serving["id"], "K1", 6)]
    assert rows[0]["years_as_chief"] >= 6
    assert rows[0]["community_code"] == COMMUNITY_A


async def test_h1_h2_list_of_a_countys_rounds_with_reserve_use_scoped_and_exportable(roster: Roster) -> None:
    """H1/H2: ``GET /v1/recruitment-rounds?county=`` lists the county's rounds, newest first, each with its
    reserve capacity (1:1 of hires) and use; another county's officer gets 404; CSV export works."""
    rounds = []
    for announced, hires, channel in (("2025-03-01", 3, "recruitment"), ("2026-03-01", 2, "election")):
        created = await roster.client.post(
            "/v1/recruitment-rounds",
            headers=roster.county_admin,
            json={
                "county_code": COUNTY,
                "channel": channel,
                "announced_on": announced,
                "hires": hires,
                "title": f"{announced[:4]}年招聘",
            },
        )
        assert created.status_code == 201
        rounds.append(created.json()["id"])
    await roster.client.post(
        f"/v1/recruitment-rounds/{rounds[0]}/reserve",
        headers=roster.county_admin,
        json={"candidates": [{"name": "候选甲", "id_number": id_number(91), "score": "70.00"}]},
    )
    listed = await roster.client.get("/v1/recruitment-rounds", headers=roster.county_admin, params={"county": COUNTY})
    assert listed.status_code == 200
    assert [(r["id"], r["channel"], r["hires"], r["reserve_capacity"], r["reserve_used"]) for r in listed.json()] == [
        (rounds[1], "election", 2, 2, 0),
        (rounds[0], "recruitment", 3, 3, 1),
    ]
    other = roster.as_(("county_admin", NEXT_COUNTY))
    refused = await roster.client.get("/v1/recruitment-rounds", headers=other, params={"county": COUNTY})
    assert refused.status_code == 404
    csv = await roster.client.get(
        "/v1/recruitment-rounds", headers=roster.county_admin, params={"county": COUNTY, "format": "csv"}
    )
    assert csv.status_code == 200
    assert csv.text.count("\n") >= 3
    assert "election" in csv.text
