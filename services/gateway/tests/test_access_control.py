"""OWASP API1/API5 at the admin API: objects named in a write lie in the caller's scope (AC1), an admin
grants only what it holds inside its region (AC2), never to itself (AC3), and accounts holding more than
it could grant are read-only to it (AC4). ``docs/security.md`` maps these to the rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import InProcessService, Mint, ServiceFactory
from services.gateway.tests.conftest import PASSWORD, AccountFactory, sign_in
from services.roster.tests.conftest import Roster, id_number
from shared.regions import county_of

LUCHENG, OTHER = "330302", "330303"  # 鹿城区 and 龙湾区 of 温州市
TOWNSHIP, OTHER_TOWNSHIP = "330302001000", "330303001000"
COMMUNITY_A, COMMUNITY_B, OTHER_COMMUNITY = "330302001001", "330302001002", "330303001001"


@pytest.fixture
async def roster(service_app: ServiceFactory, mint: Mint, gateway: InProcessService) -> Roster:
    """A roster in two counties, which the gateway reaches in-process as its upstream."""
    r = Roster(await service_app("roster"), mint)
    for code, name, parent, extra in [
        ("330000", "浙江省", None, {}),
        ("330300", "温州市", "330000", {}),
        (LUCHENG, "鹿城区", "330300", {}),
        (OTHER, "龙湾区", "330300", {}),
        (TOWNSHIP, "五马街道", LUCHENG, {}),
        (OTHER_TOWNSHIP, "永中街道", OTHER, {}),
        (COMMUNITY_A, "社区A", TOWNSHIP, {"kind": "urban", "households": 2000}),
        (COMMUNITY_B, "社区B", TOWNSHIP, {"kind": "urban", "households": 2000}),
        (OTHER_COMMUNITY, "社区O", OTHER_TOWNSHIP, {"kind": "urban", "households": 2000}),
    ]:
        made = await r.client.post(
            "/v1/regions",
            headers=r.province_admin,
            json={"code": code, "name": name, "parent_code": parent, **extra},
        )
        assert made.status_code in (201, 409), made.text  # 409: committed by a test that does not roll back
    for county in (LUCHENG, OTHER):
        put = await r.client.put(f"/v1/quotas/{county}/2026", headers=r.province_admin, json={"headcount": 30})
        assert put.status_code == 200, put.text
    await gateway.app.state.http.aclose()
    gateway.app.state.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=r.service.app))
    gateway.app.state.upstreams = {**gateway.app.state.upstreams, "roster": "http://roster.test"}
    return r


async def hire(roster: Roster, serial: int, community: str) -> dict[str, Any]:
    """A worker with an ID number no other test uses (some commit theirs)."""
    return await roster.hire(
        serial, community=community, id_number=id_number(40 + serial, "19870303", county_of(community))
    )


def new_user(username: str, *grants: tuple[str, str], **fields: Any) -> dict[str, Any]:
    return {
        "username": username,
        "name": "张三",
        "password": PASSWORD,
        "grants": [{"right": r, "region": g} for r, g in grants],
        **fields,
    }


async def test_an_account_is_bound_only_to_a_worker_of_the_callers_region_inside_its_grants(
    gateway: InProcessService, roster: Roster, account: AccountFactory
) -> None:
    ours = await roster.hire(
        1, community=COMMUNITY_A, id_number=id_number(41, "19870303", region=county_of(COMMUNITY_A))
    )
    theirs = await roster.hire(
        2, community=OTHER_COMMUNITY, id_number=id_number(42, "19870303", region=county_of(OTHER_COMMUNITY))
    )
    admin = await account(("county_admin", LUCHENG))
    url = "/api/v1/identity/users"

    foreign = await gateway.client.post(
        url, headers=admin.headers, json=new_user("w-foreign", ("worker", COMMUNITY_A), worker_id=theirs["id"])
    )
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["rule"] == "AC1"
    assert foreign.json()["errors"][0]["pointer"] == "/body/worker_id"
    assert (await sign_in(gateway.client, "w-foreign")).status_code == 401  # nothing was made

    unknown = await gateway.client.post(
        url,
        headers=admin.headers,
        json=new_user("w-unknown", ("worker", COMMUNITY_A), worker_id="00000000-0000-4000-8000-000000000000"),
    )
    assert unknown.status_code == 404

    outside_grants = await gateway.client.post(
        url, headers=admin.headers, json=new_user("w-b", ("worker", COMMUNITY_B), worker_id=ours["id"])
    )
    assert outside_grants.status_code == 422
    assert outside_grants.json()["errors"][0]["type"] == "worker_outside_grants"

    made = await gateway.client.post(
        url, headers=admin.headers, json=new_user("w-a", ("worker", COMMUNITY_A), worker_id=ours["id"])
    )
    assert made.status_code == 201, made.text
    assert made.json()["worker_id"] == ours["id"]

    # Re-binding by PATCH is checked the same way, and leaves the account as it was when refused.
    user_url = f"{url}/{made.json()['id']}"
    rebind = await gateway.client.patch(
        user_url, headers={**admin.headers, "If-Match": made.headers["etag"]}, json={"worker_id": theirs["id"]}
    )
    assert rebind.status_code == 404
    assert rebind.json()["rule"] == "AC1"
    after = await gateway.client.get(user_url, headers=admin.headers)
    assert after.json()["worker_id"] == ours["id"]
    assert after.json()["version"] == 1

    unbind = await gateway.client.patch(
        user_url, headers={**admin.headers, "If-Match": after.headers["etag"]}, json={"worker_id": None}
    )
    assert unbind.status_code == 200
    assert unbind.json()["worker_id"] is None


async def test_a_binding_the_roster_cannot_confirm_is_not_made(
    gateway: InProcessService, roster: Roster, account: AccountFactory
) -> None:
    ours = await roster.hire(
        3, community=COMMUNITY_A, id_number=id_number(43, "19870303", region=county_of(COMMUNITY_A))
    )
    gateway.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503)))
    admin = await account(("county_admin", LUCHENG))
    refused = await gateway.client.post(
        "/api/v1/identity/users",
        headers=admin.headers,
        json=new_user("w-down", ("worker", COMMUNITY_A), worker_id=ours["id"]),
    )
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_worker_token_reads_its_worker_only_while_its_grant_covers_the_worker(roster: Roster) -> None:
    moved = await roster.hire(
        4, community=OTHER_COMMUNITY, id_number=id_number(44, "19870303", region=county_of(OTHER_COMMUNITY))
    )
    stale = roster.as_(("worker", COMMUNITY_A), worker_id=moved["id"])
    assert (await roster.client.get(f"/v1/workers/{moved['id']}", headers=stale)).status_code == 404
    listed = await roster.client.get("/v1/workers", headers=stale)
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    current = roster.as_(("worker", OTHER_COMMUNITY), worker_id=moved["id"])
    assert (await roster.client.get(f"/v1/workers/{moved['id']}", headers=current)).status_code == 200
    malformed = roster.as_(("worker", COMMUNITY_A), worker_id="not-a-uuid")
    assert (await roster.client.get("/v1/workers", headers=malformed)).status_code == 200


async def test_an_admin_grants_only_rights_it_holds(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG))  # no personal-data right
    user = await account(("worker", COMMUNITY_A))
    pd = await gateway.client.post(
        f"/api/v1/identity/users/{user.id}/grants",
        headers=admin.headers,
        json={"right": "personal_data", "region": COMMUNITY_A},
    )
    assert pd.status_code == 403
    assert pd.json()["rule"] == "AC2"
    assert pd.json()["errors"][0]["pointer"] == "/body"
    created = await gateway.client.post(
        "/api/v1/identity/users",
        headers=admin.headers,
        json=new_user("puppet", ("worker", COMMUNITY_A), ("personal_data", LUCHENG)),
    )
    assert created.status_code == 403
    assert created.json()["errors"][0]["pointer"] == "/body/grants/1"
    assert (await sign_in(gateway.client, "puppet")).status_code == 401
    me = await gateway.client.get(f"/api/v1/identity/users/{user.id}", headers=admin.headers)
    assert {g["right"] for g in me.json()["grants"]} == {"worker"}

    entitled = await account(("county_admin", LUCHENG), pd=(LUCHENG,))
    ok = await gateway.client.post(
        f"/api/v1/identity/users/{user.id}/grants",
        headers=entitled.headers,
        json={"right": "personal_data", "region": COMMUNITY_A},
    )
    assert ok.status_code == 201
    beyond = await gateway.client.post(
        f"/api/v1/identity/users/{user.id}/grants",
        headers=entitled.headers,
        json={"right": "personal_data", "region": "330300"},
    )
    assert beyond.status_code == 403


async def test_an_admin_never_grants_to_itself(gateway: InProcessService, account: AccountFactory) -> None:
    admin = await account(("county_admin", LUCHENG), pd=(LUCHENG,))
    for right, region in [("personal_data", LUCHENG), ("auditor", LUCHENG), ("township_officer", TOWNSHIP)]:
        self_grant = await gateway.client.post(
            f"/api/v1/identity/users/{admin.id}/grants", headers=admin.headers, json={"right": right, "region": region}
        )
        assert self_grant.status_code == 403, (right, self_grant.text)
        assert self_grant.json()["rule"] == "AC3"


async def test_accounts_holding_more_than_the_admin_could_grant_are_read_only(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("county_admin", LUCHENG))  # no personal-data right
    peer_with_pd = await account(("county_admin", LUCHENG), pd=(LUCHENG,))
    two_counties = await account(("township_officer", TOWNSHIP), ("township_officer", OTHER_TOWNSHIP))
    for target in (peer_with_pd, two_counties):
        url = f"/api/v1/identity/users/{target.id}"
        seen = await gateway.client.get(url, headers=admin.headers)
        assert seen.status_code == 200  # visible …
        before = seen.json()
        changed = await gateway.client.patch(
            url, headers={**admin.headers, "If-Match": seen.headers["etag"]}, json={"password": "x" * 20}
        )
        assert changed.status_code == 403  # … but read-only
        assert changed.json()["rule"] == "AC4"
        granted = await gateway.client.post(
            f"{url}/grants", headers=admin.headers, json={"right": "community_secretary", "region": COMMUNITY_A}
        )
        assert granted.status_code == 403
        for grant in before["grants"]:
            revoked = await gateway.client.delete(f"/api/v1/identity/grants/{grant['id']}", headers=admin.headers)
            assert revoked.status_code in (403, 404)  # 404: a grant outside the admin's region
        sessions = await gateway.client.get(
            "/api/v1/identity/sessions", headers=admin.headers, params={"user_id": str(target.id)}
        )
        for live in sessions.json():
            ended = await gateway.client.delete(f"/api/v1/identity/sessions/{live['id']}", headers=admin.headers)
            assert ended.status_code == 403
        assert (await gateway.client.get(url, headers=admin.headers)).json() == before
        assert (await sign_in(gateway.client, target.username)).status_code == 200  # password unchanged

    # An account the admin could have made itself stays the admin's to change.
    peer = await account(("county_admin", LUCHENG))
    etag = (await gateway.client.get(f"/api/v1/identity/users/{peer.id}", headers=admin.headers)).headers["etag"]
    renamed = await gateway.client.patch(
        f"/api/v1/identity/users/{peer.id}", headers={**admin.headers, "If-Match": etag}, json={"name": "李四"}
    )
    assert renamed.status_code == 200
