"""Workers: hiring (ID numbers, one record per person, S5 quota, H4 probation), scope, personal data,
posts with P2/P3 at every date and C4 grade ranges, events."""

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
from shared.business_time import business_today


async def test_hire_derives_birth_date_and_sex_masks_personal_data_and_starts_probation(roster: Roster) -> None:
    # Hired today: on probation today (the status is derived as of the day: H4, see test_lifecycle_api).
    today = business_today().isoformat()
    worker = await roster.hire(11, phone="13812345678", generalist=True, hire_date=today)
    number = id_number(11)
    assert worker["id_number"] == number[:6] + "********" + number[-4:]
    assert worker["phone"] == "138****5678"
    assert worker["birth_date"] == "1990-01-01"
    assert worker["sex"] == "male"
    assert worker["status"] == "probation"  # H4
    async with roster.service.app.state.sessionmaker() as session:
        stored = await session.scalar(
            text("SELECT id_number_key FROM roster.workers WHERE id = :id"), {"id": worker["id"]}
        )
        event = (
            await session.execute(
                text("SELECT type, data FROM roster.events WHERE subject = :s"), {"s": f"worker/{worker['id']}"}
            )
        ).one()
    assert stored != number  # looked up by keyed hash
    assert event.type == "worker.hired"
    assert number not in str(event.data)
    assert "phone" not in event.data


async def test_bad_check_digit_is_a_422_naming_the_field(roster: Roster) -> None:
    good = id_number(12)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = await roster.client.post(
        "/v1/workers",
        headers={**roster.province_admin, "Accept-Language": "en"},
        json={"id_number": bad, "name": "x", "community_code": COMMUNITY_A, "hire_date": "2026-01-05"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/id_number"
    assert "check digit" in response.json()["detail"]


async def test_one_person_one_record_across_the_province(roster: Roster) -> None:
    await roster.hire(13)
    again = await roster.client.post(
        "/v1/workers",
        headers=roster.province_admin,
        json={
            "id_number": id_number(13),
            "name": "同一人",
            "community_code": NEXT_COMMUNITY,
            "hire_date": "2026-02-01",
        },
    )
    assert again.status_code == 409
    found = await roster.client.post(
        "/v1/workers/lookup", headers=roster.county_admin, json={"id_number": id_number(13)}
    )
    assert found.status_code == 200
    hidden = await roster.client.post(
        "/v1/workers/lookup", headers=roster.as_(("county_admin", NEXT_COUNTY)), json={"id_number": id_number(13)}
    )
    assert hidden.status_code == 404


async def test_an_id_number_in_unicode_digits_is_the_same_person(roster: Roster) -> None:
    """ID normalisation: full-width or Arabic-Indic digits, lower-case x: one person, one record."""
    number = next(id_number(n) for n in range(14, 99) if id_number(n).endswith("X"))
    worker = await roster.hire(int(number[14:16]))
    full_width = "".join(chr(0xFF10 + int(d)) for d in number[:-1]) + "ｘ"
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in number[:-1]) + "x"
    for typed in (full_width, arabic_indic):
        again = await roster.client.post(
            "/v1/workers",
            headers=roster.province_admin,
            json={"id_number": typed, "name": "同一人", "community_code": COMMUNITY_B, "hire_date": "2026-02-01"},
        )
        assert again.status_code == 409, again.text
        found = await roster.client.post("/v1/workers/lookup", headers=roster.county_admin, json={"id_number": typed})
        assert found.json()["id"] == worker["id"]
    other = "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in id_number(15))
    hired = await roster.client.post(
        "/v1/workers",
        headers=roster.as_(("province_admin", "330000"), pd=("330000",)),
        json={"id_number": other, "name": "新人", "community_code": COMMUNITY_B, "hire_date": "2026-02-01"},
    )
    assert hired.status_code == 201, hired.text
    unmasked = await roster.client.get(
        f"/v1/workers/{hired.json()['id']}/personal-data",
        headers=roster.as_(("province_admin", "330000"), pd=("330000",)),
    )
    assert unmasked.json()["id_number"] == id_number(15)  # stored in ASCII


async def test_s5_hiring_beyond_the_quota_is_refused(roster: Roster) -> None:
    await roster.client.put(f"/v1/quotas/{COUNTY}/2026", headers=roster.province_admin, json={"headcount": 2})
    await roster.hire(21)
    await roster.hire(22)
    third = await roster.client.post(
        "/v1/workers",
        headers=roster.province_admin,
        json={"id_number": id_number(23), "name": "x", "community_code": COMMUNITY_A, "hire_date": "2026-03-01"},
    )
    assert third.status_code == 422
    assert third.json()["rule"] == "S5"
    assert "2/2" in third.json()["detail"]
    no_quota = await roster.client.post(
        "/v1/workers",
        headers=roster.province_admin,
        json={"id_number": id_number(24), "name": "x", "community_code": COMMUNITY_A, "hire_date": "2027-01-04"},
    )
    assert no_quota.json()["rule"] == "S5"  # no 2027 quota yet: no hiring
    used = (await roster.client.get(f"/v1/quotas/{COUNTY}/2026", headers=roster.county_admin)).json()
    assert (used["headcount"], used["used"]) == (2, 2)


async def test_community_secretary_sees_community_a_not_b_and_a_worker_only_themselves(roster: Roster) -> None:
    in_a = await roster.hire(31, community=COMMUNITY_A)
    in_b = await roster.hire(32, community=COMMUNITY_B)
    secretary_a = roster.as_(("community_secretary", COMMUNITY_A))
    assert (await roster.client.get(f"/v1/workers/{in_a['id']}", headers=secretary_a)).status_code == 200
    assert (await roster.client.get(f"/v1/workers/{in_b['id']}", headers=secretary_a)).status_code == 404
    listed = (await roster.client.get("/v1/workers", headers=secretary_a)).json()["items"]
    assert {w["id"] for w in listed} == {in_a["id"]}
    # A secretary reads but does not change: outside its community 404, inside 403.
    etag = (await roster.client.get(f"/v1/workers/{in_a['id']}", headers=secretary_a)).headers["etag"]
    change = await roster.client.patch(
        f"/v1/workers/{in_a['id']}", headers={**secretary_a, "If-Match": etag}, json={"generalist": True}
    )
    assert change.status_code == 403
    change_b = await roster.client.patch(
        f"/v1/workers/{in_b['id']}", headers={**secretary_a, "If-Match": etag}, json={"generalist": True}
    )
    assert change_b.status_code == 404
    me = roster.as_(("worker", COMMUNITY_A), worker_id=in_a["id"])
    assert (await roster.client.get(f"/v1/workers/{in_a['id']}", headers=me)).status_code == 200
    assert (await roster.client.get(f"/v1/workers/{in_b['id']}", headers=me)).status_code == 404
    assert [w["id"] for w in (await roster.client.get("/v1/workers", headers=me)).json()["items"]] == [in_a["id"]]
    county = (await roster.client.get("/v1/workers", headers=roster.county_admin, params={"limit": 500})).json()[
        "items"
    ]
    assert {in_a["id"], in_b["id"]} <= {w["id"] for w in county}
    assert (await roster.client.get("/v1/workers", headers=roster.as_(("county_admin", NEXT_COUNTY)))).json()[
        "items"
    ] == []


async def test_unmasked_personal_data_needs_the_right_and_every_read_is_audited(roster: Roster) -> None:
    worker = await roster.hire(41, phone="13900001111")
    url = f"/v1/workers/{worker['id']}/personal-data"
    assert (await roster.client.get(url, headers=roster.county_admin)).status_code == 403
    entitled = roster.as_(("county_admin", COUNTY), pd=(COUNTY,))
    full = await roster.client.get(url, headers={**entitled, "X-Request-ID": "pd-read-1"})
    assert full.json() == {"worker_id": worker["id"], "id_number": id_number(41), "phone": "13900001111"}
    async with roster.service.app.state.sessionmaker() as session:
        audit = (
            await session.execute(text("SELECT worker_id, request_id, fields FROM roster.personal_data_reads"))
        ).all()
    assert [(str(a.worker_id), a.request_id, a.fields) for a in audit] == [
        (worker["id"], "pd-read-1", ["id_number", "phone"])
    ]


async def test_leaving_needs_a_date_and_ends_the_post(roster: Roster) -> None:
    worker = await roster.hire(51)
    await roster.assign(worker["id"], "staff", 3)
    url = f"/v1/workers/{worker['id']}"
    etag = (await roster.client.get(url, headers=roster.county_admin)).headers["etag"]
    no_date = await roster.client.patch(url, headers={**roster.county_admin, "If-Match": etag}, json={"status": "left"})
    assert no_date.status_code == 422
    left = await roster.client.patch(
        url, headers={**roster.county_admin, "If-Match": etag}, json={"status": "left", "left_date": "2026-06-15"}
    )
    assert left.status_code == 200
    posts = (await roster.client.get(f"{url}/posts", headers=roster.county_admin)).json()
    # The leave date is the last day worked (inclusive); the post's end is exclusive: the next day.
    assert posts[0]["end_date"] == "2026-06-16"
    assert (await roster.client.get(url, headers=roster.county_admin)).json()["status"] == "left"


async def test_p2_one_chief_a_second_only_with_approval_never_a_third(roster: Roster) -> None:
    a, b, c = [await roster.hire(n) for n in (61, 62, 63)]
    assert (await roster.assign(a["id"], "chief", 9)).status_code == 201
    refused = await roster.assign(b["id"], "chief", 9)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "P2"
    approved = await roster.assign(b["id"], "chief", 9, approval="鹿组〔2026〕3号 居委会主任")
    assert approved.status_code == 201
    assert (await roster.assign(c["id"], "chief", 9, approval="another")).json()["rule"] == "P2"


async def test_p3_at_most_two_deputies_at_once_counted_at_every_date(roster: Roster) -> None:
    d1, d2, d3 = [await roster.hire(n) for n in (71, 72, 73)]
    assert (await roster.assign(d1["id"], "deputy", 5, start="2026-01-05")).status_code == 201
    assert (await roster.assign(d2["id"], "deputy", 5, start="2026-02-01")).status_code == 201
    third = await roster.assign(d3["id"], "deputy", 5, start="2026-03-01")
    assert third.status_code == 422
    assert third.json()["rule"] == "P3"
    # d2 moves to a staff post in April: from then on a third deputy is only the second at once.
    assert (await roster.assign(d2["id"], "staff", 5, start="2026-04-01")).status_code == 201
    assert (await roster.assign(d3["id"], "deputy", 5, start="2026-04-01")).status_code == 201


async def test_c4_grade_within_the_posts_range_and_one_post_at_a_time(roster: Roster) -> None:
    worker = await roster.hire(81)
    low = await roster.assign(worker["id"], "chief", 3)
    assert low.status_code == 422
    assert low.json()["rule"] == "C4"
    assert (await roster.assign(worker["id"], "staff", 3, start="2026-01-05")).status_code == 201
    assert (await roster.assign(worker["id"], "deputy", 6, start="2026-07-01")).status_code == 201
    history = (await roster.client.get(f"/v1/workers/{worker['id']}/posts", headers=roster.county_admin)).json()
    assert [(p["post"], p["start_date"], p["end_date"]) for p in history] == [
        ("staff", "2026-01-05", "2026-07-01"),
        ("deputy", "2026-07-01", None),
    ]
    backdated = await roster.assign(worker["id"], "staff", 2, start="2026-03-01")
    assert backdated.status_code == 422


async def test_the_region_filter_takes_a_community_exactly(roster: Roster) -> None:
    # A code ending in zeros is a prefix of its neighbours as text: 330302001010 must not match …011.
    for code in ("330302001010", "330302001011"):
        await roster.region(code, code, "330302001000", kind="urban", households=1000)
    ten, eleven = await roster.hire(91, community="330302001010"), await roster.hire(92, community="330302001011")
    listed = (
        await roster.client.get("/v1/workers", headers=roster.county_admin, params={"region": "330302001010"})
    ).json()
    assert [w["id"] for w in listed["items"]] == [ten["id"]]
    assert eleven["id"] not in [w["id"] for w in listed["items"]]
