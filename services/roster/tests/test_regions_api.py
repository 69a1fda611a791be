"""Regions: the tree, its queries, S3 extra posts, scope, concurrency."""

from services.roster.tests.conftest import (
    CITY,
    COMMUNITY_A,
    COMMUNITY_C,
    COUNTY,
    NEXT_COMMUNITY,
    NEXT_COUNTY,
    PROVINCE,
    TOWNSHIP,
    Roster,
)


async def test_tree_queries(roster: Roster) -> None:
    admin = roster.county_admin
    children = (await roster.client.get(f"/v1/regions/{TOWNSHIP}/children", headers=admin)).json()
    assert [r["code"] for r in children["items"]] == [COMMUNITY_A, "330302001002", COMMUNITY_C]
    assert children["items"][2]["required_staff"] == 8  # S2: 3,099 households → 8
    descendants = (
        await roster.client.get(f"/v1/regions/{COUNTY}/descendants", headers=admin, params={"level": "community"})
    ).json()
    assert len(descendants["items"]) == 3
    ancestors = (await roster.client.get(f"/v1/regions/{COMMUNITY_A}/ancestors", headers=admin)).json()
    assert [r["code"] for r in ancestors] == [TOWNSHIP, COUNTY, CITY, PROVINCE]


async def test_pages_follow_the_cursor(roster: Roster) -> None:
    first = (
        await roster.client.get(f"/v1/regions/{TOWNSHIP}/children", headers=roster.county_admin, params={"limit": 2})
    ).json()
    assert len(first["items"]) == 2
    rest = await roster.client.get(
        f"/v1/regions/{TOWNSHIP}/children",
        headers=roster.county_admin,
        params={"limit": 2, "cursor": first["next_cursor"]},
    )
    assert [r["code"] for r in rest.json()["items"]] == [COMMUNITY_C]
    assert rest.json()["next_cursor"] is None
    other = await roster.client.get(
        f"/v1/regions/{COUNTY}/descendants", headers=roster.county_admin, params={"cursor": first["next_cursor"]}
    )
    assert other.status_code == 400  # a cursor is tied to the query that made it


async def test_county_admin_sees_its_county_and_not_the_next(roster: Roster) -> None:
    assert (await roster.client.get(f"/v1/regions/{COMMUNITY_A}", headers=roster.county_admin)).status_code == 200
    assert (await roster.client.get(f"/v1/regions/{NEXT_COMMUNITY}", headers=roster.county_admin)).status_code == 404
    assert (
        await roster.client.get(f"/v1/regions/{NEXT_COUNTY}/children", headers=roster.county_admin)
    ).status_code == 404
    secretary = roster.as_(("community_secretary", COMMUNITY_A))
    assert (await roster.client.get("/v1/regions/330302001002", headers=secretary)).status_code == 404


async def test_s3_extra_posts_need_an_old_town_or_commercial_kind_and_an_approval(roster: Roster) -> None:
    url = f"/v1/regions/{COMMUNITY_C}"
    etag = (await roster.client.get(url, headers=roster.county_admin)).headers["etag"]
    missing = await roster.client.patch(url, headers={**roster.county_admin, "If-Match": etag}, json={"extra_staff": 2})
    assert missing.status_code == 422
    assert missing.json()["rule"] == "S3"
    ok = await roster.client.patch(
        url,
        headers={**roster.county_admin, "If-Match": etag},
        json={"extra_staff": 2, "extra_staff_approval": "鹿组通〔2026〕12号"},
    )
    assert ok.status_code == 200
    assert ok.json()["required_staff"] == 10  # 8 (S2) + 2 (S3)
    stale = await roster.client.patch(url, headers={**roster.county_admin, "If-Match": etag}, json={"households": 1})
    assert stale.status_code == 412
    plain = f"/v1/regions/{COMMUNITY_A}"
    etag_a = (await roster.client.get(plain, headers=roster.county_admin)).headers["etag"]
    refused = await roster.client.patch(
        plain, headers={**roster.county_admin, "If-Match": etag_a}, json={"extra_staff": 1, "extra_staff_approval": "x"}
    )
    assert refused.json()["rule"] == "S3"


async def test_a_region_must_sit_one_level_below_its_parent(roster: Roster) -> None:
    wrong = await roster.client.post(
        "/v1/regions",
        headers=roster.province_admin,
        json={"code": "330302002001", "name": "x", "parent_code": COUNTY, "kind": "urban"},
    )
    assert wrong.status_code == 422
    no_kind = await roster.client.post(
        "/v1/regions",
        headers=roster.province_admin,
        json={"code": "330302001009", "name": "x", "parent_code": TOWNSHIP},
    )
    assert no_kind.status_code == 422
    duplicate = await roster.client.post(
        "/v1/regions",
        headers=roster.province_admin,
        json={"code": COMMUNITY_A, "name": "x", "parent_code": TOWNSHIP, "kind": "urban"},
    )
    assert duplicate.status_code == 409
    outsider = await roster.client.post(
        "/v1/regions",
        headers=roster.as_(("county_admin", NEXT_COUNTY)),
        json={"code": "330302001010", "name": "x", "parent_code": TOWNSHIP, "kind": "urban"},
    )
    assert outsider.status_code == 404


async def test_staffing_parameters_walk_up_the_tree(roster: Roster) -> None:
    set_city = await roster.client.put(
        f"/v1/staffing-policies/{CITY}/2026",
        headers=roster.province_admin,
        json={"parameters": {"household_step": 400}, "source": "温州市某文件"},
    )
    assert set_city.status_code == 200
    await roster.client.put(
        f"/v1/staffing-policies/{COUNTY}/2026",
        headers=roster.county_admin,
        json={"parameters": {"base_staff": 7}, "source": "鹿城区某文件"},
    )
    in_force = (
        await roster.client.get(f"/v1/staffing-policies/{COMMUNITY_A}/2026", headers=roster.county_admin)
    ).json()
    assert (in_force["base_staff"], in_force["household_step"]) == (7, 400)  # county over city over preset
    elsewhere = (
        await roster.client.get(f"/v1/staffing-policies/{NEXT_COMMUNITY}/2026", headers=roster.province_admin)
    ).json()
    assert (elsewhere["base_staff"], elsewhere["household_step"]) == (6, 400)
    unknown = await roster.client.put(
        f"/v1/staffing-policies/{COUNTY}/2026",
        headers=roster.county_admin,
        json={"parameters": {"bogus": 1}, "source": "x"},
    )
    assert unknown.status_code == 422


async def test_a_child_code_must_extend_its_parents_gb_t_2260(roster: Roster) -> None:
    """Region codes: a city 3303xx under province 33, a county under its city's 4 digits, a township =
    county + 3 digits + 000, a community = township's first 9 + 3 digits; refusals name the field."""
    english = {**roster.province_admin, "Accept-Language": "en"}
    cases = [
        ({"code": "331002", "parent_code": CITY}, "/body/code"),  # 椒江区 belongs to 台州 3310, not 温州 3303
        ({"code": "340100", "parent_code": PROVINCE}, "/body/code"),  # 合肥 is not in 浙江
        ({"code": "330304002000", "parent_code": COUNTY}, "/body/code"),  # another county's township
        ({"code": "330302001000", "parent_code": CITY}, "/body/code"),  # skips the county level
    ]
    for fields, pointer in cases:
        response = await roster.client.post("/v1/regions", headers=english, json={"name": "x", **fields})
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["pointer"] == pointer
        assert error["detail_zh"]
        assert "extend" in error["detail_en"] or "not a child" in error["detail_en"]


async def test_non_codes_are_a_422_naming_the_field_never_a_500(roster: Roster) -> None:
    """000000, a gap in the levels or a code of no province is no region code: 422 problem+json."""
    for code, parent in [("000000", None), ("330002", PROVINCE), ("330302000001", COUNTY), ("990000", None)]:
        response = await roster.client.post(
            "/v1/regions", headers=roster.province_admin, json={"code": code, "name": "x", "parent_code": parent}
        )
        assert response.status_code == 422, (code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["pointer"] for e in response.json()["errors"]] == ["/body/code"]
    for path in ["/v1/regions/000000", "/v1/regions/abc/children", "/v1/quotas/000000/2026", "/v1/regions/330002"]:
        response = await roster.client.get(path, headers=roster.province_admin)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0]["pointer"].startswith("/path/")
    listed = await roster.client.get("/v1/workers", headers=roster.province_admin, params={"region": "000000"})
    assert listed.status_code == 422
    assert listed.json()["errors"][0]["pointer"] == "/query/region"


async def test_full_width_and_arabic_indic_codes_are_the_same_region(roster: Roster) -> None:
    """ID normalisation: region codes typed with Unicode digits are read as ASCII, in paths and bodies."""
    full_width = "".join(chr(0xFF10 + int(d)) for d in COMMUNITY_A)
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in COUNTY)
    assert (await roster.client.get(f"/v1/regions/{full_width}", headers=roster.county_admin)).json()[
        "code"
    ] == COMMUNITY_A
    assert (await roster.client.get(f"/v1/quotas/{arabic_indic}/2026", headers=roster.county_admin)).json()[
        "county_code"
    ] == COUNTY
    created = await roster.client.post(
        "/v1/regions",
        headers=roster.province_admin,
        json={"code": "３３０３０２００１００９", "name": "新社区", "parent_code": "٣٣٠٣٠٢٠٠١٠٠٠", "kind": "urban"},
    )
    assert created.status_code == 201, created.text
    assert (created.json()["code"], created.json()["parent_code"]) == ("330302001009", TOWNSHIP)
