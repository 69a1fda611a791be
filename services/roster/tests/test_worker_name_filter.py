"""The workers list's ``name`` filter (the console's search by name): names starting with the text (a surname
or a full name), wildcards taken literally, within the caller's region only, tied to the cursor, and served
by the ``workers_name_prefix_idx`` index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.roster.tests.conftest import COMMUNITY_B, NEXT_COMMUNITY, Roster


async def names(roster: Roster, headers: dict[str, str], **params: Any) -> list[str]:
    response = await roster.client.get("/v1/workers", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return sorted(w["name"] for w in response.json()["items"])


async def test_names_starting_with_the_text_in_the_callers_region(roster: Roster) -> None:
    for serial, name in enumerate(("张伟", "张伟明", "张三", "李伟", "王_小", "王大"), start=1):
        await roster.hire(serial, community=COMMUNITY_B if serial % 2 else "330302001001", name=name)
    await roster.hire(20, community=NEXT_COMMUNITY, name="张伟")  # 瓯海区: not the 鹿城区 admin's
    county = roster.county_admin
    assert await names(roster, county, name="张") == ["张三", "张伟", "张伟明"]
    assert await names(roster, county, name="张伟") == ["张伟", "张伟明"]
    assert await names(roster, county, name="张伟明") == ["张伟明"]
    assert await names(roster, county, name="伟") == []  # a prefix, not a substring
    assert await names(roster, county, name="王_") == ["王_小"]  # "_" is a character, not a wildcard
    assert await names(roster, county, name="%") == []
    assert await names(roster, roster.province_admin, name="张伟") == ["张伟", "张伟", "张伟明"]
    assert await names(roster, county, name="张", region=COMMUNITY_B) == ["张三", "张伟"]


async def test_the_cursor_is_tied_to_the_name(roster: Roster) -> None:
    for serial in range(1, 4):
        await roster.hire(serial, name=f"陈{serial}")
    await roster.hire(9, name="周九")
    params: dict[str, str | int] = {"name": "陈", "limit": 2}
    first = (await roster.client.get("/v1/workers", headers=roster.county_admin, params=params)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = (
        await roster.client.get(
            "/v1/workers",
            headers=roster.county_admin,
            params={"name": "陈", "limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [w["name"] for w in first["items"] + rest["items"]].count("周九") == 0
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    other = await roster.client.get(
        "/v1/workers", headers=roster.county_admin, params={"name": "周", "cursor": first["next_cursor"]}
    )
    assert other.status_code == 400


async def test_bad_names_are_refused_not_500(roster: Roster) -> None:
    for bad in ("", "x" * 51):
        response = await roster.client.get("/v1/workers", headers=roster.county_admin, params={"name": bad})
        assert response.status_code == 422, response.text


async def test_the_prefix_search_uses_the_name_index(roster: Roster) -> None:
    async with roster.service.app.state.sessionmaker() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            row[0]
            for row in (
                await session.execute(text("EXPLAIN SELECT id FROM roster.workers WHERE name LIKE :p"), {"p": "张伟%"})
            ).all()
        )
    assert "workers_name_prefix_idx" in plan, plan
