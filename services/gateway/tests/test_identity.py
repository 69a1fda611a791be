"""The admin API is scoped: a county admin manages only its county's accounts, grants only below itself."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from conftest import InProcessService
from services.gateway.tests.conftest import PASSWORD, AccountFactory, sign_in

LUCHENG, OUHAI = "330302", "330304"  # two counties (districts) of 温州市 330300
COMMUNITY_A, COMMUNITY_B = "330302001001", "330302001002"


def new_user(username: str, *grants: tuple[str, str]) -> dict[str, object]:
    return {
        "username": username,
        "name": "张三",
        "phone": "13912345678",
        "password": PASSWORD,
        "grants": [{"right": r, "region": g} for r, g in grants],
    }


async def test_county_admin_creates_accounts_in_its_county_only(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("county_admin", LUCHENG))
    ok = await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("sec-a", ("community_secretary", COMMUNITY_A))
    )
    assert ok.status_code == 201, ok.text
    assert ok.headers["etag"] == f'"{ok.json()["id"]}-1"'
    assert ok.json()["phone"] == "139****5678"
    elsewhere = await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("sec-x", ("community_secretary", "330304001001"))
    )
    assert elsewhere.status_code == 403  # AC2: only inside its own region
    assert elsewhere.json()["errors"][0]["type"] == "grant_not_allowed"
    above = await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("boss", ("city_admin", "330300"))
    )
    assert above.status_code == 403  # a county admin cannot make a city admin, even over its own county
    wrong_level = await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("sec-y", ("community_secretary", LUCHENG))
    )
    assert wrong_level.json()["errors"][0]["type"] == "region_level"
    taken = await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("sec-a", ("worker", COMMUNITY_A))
    )
    assert taken.status_code == 409
    # The new secretary can sign in with the password the admin set.
    assert (await sign_in(gateway.client, "sec-a")).status_code == 200


async def test_county_admin_sees_all_of_its_county_and_nothing_of_the_next(
    gateway: InProcessService, account: AccountFactory
) -> None:
    ours = await account(("community_secretary", COMMUNITY_A))
    ours_b = await account(("worker", COMMUNITY_B))
    theirs = await account(("community_secretary", "330304001001"))
    admin = await account(("county_admin", LUCHENG))
    listed = await gateway.client.get("/api/v1/identity/users", headers=admin.headers, params={"limit": 500})
    names = {u["username"] for u in listed.json()["items"]}
    assert {ours.username, ours_b.username, admin.username} <= names
    assert theirs.username not in names
    assert (await gateway.client.get(f"/api/v1/identity/users/{theirs.id}", headers=admin.headers)).status_code == 404
    assert (await gateway.client.get(f"/api/v1/identity/users/{ours.id}", headers=admin.headers)).status_code == 200
    in_a = await gateway.client.get("/api/v1/identity/users", headers=admin.headers, params={"region": COMMUNITY_A})
    assert {u["username"] for u in in_a.json()["items"]} == {ours.username}


@pytest.mark.parametrize("role", [("community_secretary", COMMUNITY_A), ("worker", COMMUNITY_A), ("auditor", LUCHENG)])
async def test_non_admins_cannot_use_the_admin_api(
    gateway: InProcessService, account: AccountFactory, role: tuple[str, str]
) -> None:
    caller = await account(role)
    response = await gateway.client.get("/api/v1/identity/users", headers=caller.headers)
    assert response.status_code == 403
    assert "county_admin" in response.json()["detail"]


async def test_updates_need_a_fresh_if_match(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG))
    user = await account(("worker", COMMUNITY_A))
    url = f"/api/v1/identity/users/{user.id}"
    etag = (await gateway.client.get(url, headers=admin.headers)).headers["etag"]
    missing = await gateway.client.patch(url, headers=admin.headers, json={"name": "李四"})
    assert missing.status_code == 428
    changed = await gateway.client.patch(url, headers={**admin.headers, "If-Match": etag}, json={"name": "李四"})
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    stale = await gateway.client.patch(url, headers={**admin.headers, "If-Match": etag}, json={"name": "王五"})
    assert stale.status_code == 412
    assert (await gateway.client.get(url, headers=admin.headers)).json()["name"] == "李四"  # nothing lost


async def test_deactivating_a_user_ends_its_sessions_and_sign_ins(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("county_admin", LUCHENG))
    user = await account(("worker", COMMUNITY_A))
    url = f"/api/v1/identity/users/{user.id}"
    etag = (await gateway.client.get(url, headers=admin.headers)).headers["etag"]
    await gateway.client.patch(url, headers={**admin.headers, "If-Match": etag}, json={"active": False})
    refresh = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await sign_in(gateway.client, user.username)).status_code == 401


async def test_unmasked_phone_needs_the_personal_data_right_and_is_audited(
    gateway: InProcessService, account: AccountFactory
) -> None:
    plain = await account(("county_admin", LUCHENG))
    entitled = await account(("county_admin", LUCHENG), pd=(LUCHENG,))
    user = await account(("worker", COMMUNITY_A), phone="13700001111")
    url = f"/api/v1/identity/users/{user.id}"
    masked = await gateway.client.get(url, headers=plain.headers, params={"unmasked": "true"})
    assert masked.json()["phone"] == "137****1111"
    full = await gateway.client.get(url, headers=entitled.headers, params={"unmasked": "true"})
    assert full.json()["phone"] == "13700001111"
    async with gateway.app.state.sessionmaker() as session:
        rows = (
            await session.execute(
                text("SELECT actor, subject FROM gateway.audit_events WHERE action = 'personal_data_read'")
            )
        ).all()
    assert (f"user:{entitled.id}", f"user:{user.id}") in rows
    assert all(actor != f"user:{plain.id}" for actor, _ in rows)


async def test_grants_and_revocations(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG))
    user = await account(("worker", COMMUNITY_A))
    granted = await gateway.client.post(
        f"/api/v1/identity/users/{user.id}/grants",
        headers=admin.headers,
        json={"right": "community_secretary", "region": COMMUNITY_A},
    )
    assert granted.status_code == 201
    fresh = await sign_in(gateway.client, user.username)
    me = await gateway.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert {g["right"] for g in me.json()["grants"]} == {"worker", "community_secretary"}
    revoked = await gateway.client.delete(f"/api/v1/identity/grants/{granted.json()['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    again = await gateway.client.delete(f"/api/v1/identity/grants/{granted.json()['id']}", headers=admin.headers)
    assert again.status_code == 404


async def test_sessions_are_listed_and_ended_by_the_admin(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG))
    user = await account(("worker", COMMUNITY_A))
    listed = await gateway.client.get(
        "/api/v1/identity/sessions", headers=admin.headers, params={"user_id": str(user.id)}
    )
    (live,) = listed.json()
    assert (
        await gateway.client.delete(f"/api/v1/identity/sessions/{live['id']}", headers=admin.headers)
    ).status_code == 204
    refresh = await gateway.client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": user.refresh_token}
    )
    assert refresh.status_code == 401
    other_admin = await account(("county_admin", "330304"))
    assert (
        await gateway.client.delete(f"/api/v1/identity/sessions/{live['id']}", headers=other_admin.headers)
    ).status_code == 404


async def test_audit_log_is_scoped_and_append_only(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG))
    await gateway.client.post(
        "/api/v1/identity/users", headers=admin.headers, json=new_user("audited", ("worker", COMMUNITY_A))
    )
    await gateway.client.post(
        "/api/v1/identity/users",
        headers=(await account(("county_admin", "330304"))).headers,
        json=new_user("elsewhere", ("worker", "330304001001")),
    )
    auditor = await account(("auditor", LUCHENG))
    events = (await gateway.client.get("/api/v1/audit/events", headers=auditor.headers, params={"limit": 500})).json()
    regions = {e["region"] for e in events["items"]}
    assert COMMUNITY_A in regions
    assert "330304001001" not in regions
    assert {"role_granted", "user_created"} <= {e["action"] for e in events["items"]}
    for statement in ("UPDATE gateway.audit_events SET actor = 'someone else'", "DELETE FROM gateway.audit_events"):
        async with gateway.app.state.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
            await session.rollback()


async def test_audit_log_filters_by_actor_and_date_range(gateway: InProcessService, account: AccountFactory) -> None:
    """The console's 审计 page asks for one actor's events in a date range (since inclusive, until exclusive)."""
    first, second = await account(("county_admin", LUCHENG)), await account(("county_admin", LUCHENG))
    made = {}
    for admin, name in ((first, "by-first"), (second, "by-second")):
        created = await gateway.client.post(
            "/api/v1/identity/users", headers=admin.headers, json=new_user(name, ("worker", COMMUNITY_A))
        )
        assert created.status_code == 201, created.text
        made[name] = f"user:{created.json()['id']}"
    auditor = await account(("auditor", LUCHENG))

    async def events(**params: str) -> list[dict[str, object]]:
        answer = await gateway.client.get("/api/v1/audit/events", headers=auditor.headers, params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    everything = await events(action="user_created")
    assert {e["subject"] for e in everything} >= set(made.values())
    actor = next(str(e["actor"]) for e in everything if e["subject"] == made["by-first"])
    (one,) = await events(action="user_created", actor=actor)
    assert one["subject"] == made["by-first"]
    assert await events(action="user_created", actor=actor, until=str(one["occurred_at"])) == []
    assert await events(actor=actor, since="2100-01-01T00:00:00Z") == []
    assert await events(actor="nobody-at-all") == []
