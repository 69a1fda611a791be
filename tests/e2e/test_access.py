"""Identity and access end to end: the bootstrap admin, scoped administration, tokens refused by the
gateway and by each service called directly, service-to-service credentials, rate limits, audit."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import Mint, bearer
from services.roster.tests.conftest import id_number
from shared.service_auth import ServiceCredentials
from tests.e2e.conftest import (
    ADMIN_PASSWORD,
    RATE_LIMIT_USER,
    RATE_LIMIT_WINDOW,
    Suite,
    make_user,
    signed_in,
    token_for,
)

pytestmark = pytest.mark.e2e
LUCHENG, OUHAI = "330302", "330304"
COMMUNITY_A, COMMUNITY_B = "330302001001", "330302001002"


def test_bootstrap_admin_runs_the_province_and_counties_stay_apart(suite: Suite, data_dir: Path) -> None:
    assert not (data_dir / "admin-password").exists()  # the password came from the environment
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    me = httpx.get(f"{suite.gateway}/api/v1/auth/me", headers=admin).json()
    assert {"right": "province_admin", "region": "330000"} in me["grants"]
    assert me["personal_data_regions"] == ["330000"]

    tag = uuid.uuid4().hex[:6]
    make_user(suite, admin, f"lucheng-{tag}", "county_admin", LUCHENG)
    make_user(suite, admin, f"ouhai-{tag}", "county_admin", OUHAI)
    lucheng = bearer(token_for(suite, f"lucheng-{tag}", "a long enough password")["access_token"])
    ouhai = bearer(token_for(suite, f"ouhai-{tag}", "a long enough password")["access_token"])
    sec_a = make_user(suite, lucheng, f"sec-a-{tag}", "community_secretary", COMMUNITY_A)
    make_user(suite, lucheng, f"sec-b-{tag}", "community_secretary", COMMUNITY_B)
    worker = make_user(suite, lucheng, f"worker-{tag}", "worker", COMMUNITY_A)
    make_user(suite, ouhai, f"sec-o-{tag}", "community_secretary", "330304001001")

    seen = httpx.get(f"{suite.gateway}/api/v1/identity/users", headers=lucheng, params={"limit": 500}).json()
    names = {u["username"] for u in seen["items"]}
    assert {f"sec-a-{tag}", f"sec-b-{tag}", f"worker-{tag}"} <= names
    assert f"sec-o-{tag}" not in names
    assert f"ouhai-{tag}" not in names
    assert httpx.get(f"{suite.gateway}/api/v1/identity/users/{sec_a['id']}", headers=ouhai).status_code == 404

    secretary = bearer(token_for(suite, f"sec-a-{tag}", "a long enough password")["access_token"])
    assert httpx.get(f"{suite.gateway}/api/v1/identity/users", headers=secretary).status_code == 403
    worker_token = bearer(token_for(suite, f"worker-{tag}", "a long enough password")["access_token"])
    worker_me = httpx.get(f"{suite.gateway}/api/v1/auth/me", headers=worker_token).json()
    assert worker_me["subject"] == f"user:{worker['id']}"
    assert worker_me["grants"] == [{"right": "worker", "region": COMMUNITY_A}]

    audit = httpx.get(f"{suite.gateway}/api/v1/audit/events", headers=admin, params={"limit": 500}).json()
    actions = {(e["action"], e["region"]) for e in audit["items"]}
    assert ("role_granted", COMMUNITY_A) in actions
    assert ("sign_in", COMMUNITY_A) in actions


def test_service_clients_use_client_credentials_to_call_each_other(suite: Suite, data_dir: Path) -> None:
    secret = (data_dir / "clients" / "compensation.secret").read_text().strip()
    token = httpx.post(
        f"{suite.gateway}/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "compensation", "client_secret": secret},
    ).json()["access_token"]
    # Compensation reads the roster's feed: through the gateway, and straight at the roster.
    assert httpx.get(f"{suite.gateway}/api/v1/roster/events", headers=bearer(token)).status_code == 200
    assert httpx.get(f"{suite.service_url('roster')}/v1/events", headers=bearer(token)).status_code == 200


async def test_service_credentials_fetch_and_reuse_a_token(suite: Suite, data_dir: Path) -> None:
    secret = (data_dir / "clients" / "evaluation.secret").read_text().strip()
    async with httpx.AsyncClient() as client:
        credentials = ServiceCredentials(client, f"{suite.gateway}/api/v1/auth/token", "evaluation", secret)
        first = await credentials.token()
        assert await credentials.token() == first  # cached until shortly before it expires
        feed = await client.get(f"{suite.service_url('roster')}/v1/events", headers=await credentials.headers())
        assert feed.status_code == 200


def forged_with_another_key(valid: str) -> str:
    claims = jwt.decode(valid, options={"verify_signature": False})
    kid = jwt.get_unverified_header(valid)["kid"]
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})


def tampered(valid: str) -> str:
    header, payload, signature = valid.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return f"{header}.{flipped}.{signature}"


@pytest.mark.parametrize("kind", ["expired", "tampered", "wrong key", "garbage"])
def test_bad_tokens_are_refused_by_the_gateway_and_by_each_service_directly(
    suite: Suite, mint: Mint, kind: str
) -> None:
    valid = mint(("service", "330000"), subject="client:compensation")
    token = {
        "expired": mint(("service", "330000"), ttl=-120),
        "tampered": tampered(valid),
        "wrong key": forged_with_another_key(valid),
        "garbage": "abc.def.ghi",
    }[kind]
    through_gateway = httpx.get(f"{suite.gateway}/api/v1/evaluation/events", headers=bearer(token))
    assert through_gateway.status_code == 401
    assert through_gateway.headers["content-type"] == "application/problem+json"
    for service in ("roster", "compensation", "evaluation"):
        direct = httpx.get(f"{suite.service_url(service)}/v1/events", headers=bearer(token))
        assert direct.status_code == 401, (service, direct.text)
        assert httpx.get(f"{suite.service_url(service)}/v1/events", headers=bearer(valid)).status_code == 200


def test_a_revoked_refresh_token_is_refused_through_the_gateway(suite: Suite, data_dir: Path) -> None:
    tokens = token_for(suite, "admin", ADMIN_PASSWORD)
    assert httpx.post(f"{suite.gateway}/api/v1/auth/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    refused = httpx.post(
        f"{suite.gateway}/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refused.status_code == 401


def test_rate_limits_trip_and_reset_through_the_gateway(suite: Suite) -> None:
    user = signed_in(suite, "worker", COMMUNITY_A)
    with httpx.Client(base_url=suite.gateway, headers=user) as client:
        # Sent a dozen at a time: one by one, a busy machine may answer slower than the allowance refills.
        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(lambda _: client.get("/api/v1/auth/me").status_code, range(RATE_LIMIT_USER * 3)))
        assert 429 in codes
        assert codes.count(200) >= RATE_LIMIT_USER  # the whole allowance, then refusals
        time.sleep(RATE_LIMIT_WINDOW + 0.1)
        assert client.get("/api/v1/auth/me").status_code == 200


def test_roster_records_are_scoped_by_community_through_the_gateway(suite: Suite, data_dir: Path) -> None:
    """A community secretary of A cannot read or change anything of B (404); a county admin sees all of
    its county and nothing of the next; a worker sees only themselves — with real users and tokens."""
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    api = f"{suite.gateway}/api/v1/roster"
    tree = [
        ("330000", None, {}),
        ("330300", "330000", {}),
        (LUCHENG, "330300", {}),
        (OUHAI, "330300", {}),
        ("330302001000", LUCHENG, {}),
        ("330304001000", OUHAI, {}),
        (COMMUNITY_A, "330302001000", {"kind": "urban", "households": 2000}),
        (COMMUNITY_B, "330302001000", {"kind": "urban", "households": 2500}),
        ("330304001001", "330304001000", {"kind": "urban", "households": 900}),
    ]
    for code, parent, extra in tree:
        created = httpx.post(
            f"{api}/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
        )
        assert created.status_code in (201, 409), created.text
    for county_code in (LUCHENG, OUHAI):
        assert httpx.put(f"{api}/quotas/{county_code}/2026", headers=admin, json={"headcount": 50}).status_code == 200

    def hire(serial: int, community: str) -> dict[str, object]:
        response = httpx.post(
            f"{api}/workers",
            headers=admin,
            json={
                "id_number": id_number(serial, birth="19850707"),
                "name": f"e2e{serial}",
                "community_code": community,
                "hire_date": "2026-01-05",
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, object] = response.json()
        return body

    in_a, in_b, in_ouhai = hire(91, COMMUNITY_A), hire(92, COMMUNITY_B), hire(93, "330304001001")
    tag = uuid.uuid4().hex[:6]
    make_user(suite, admin, f"e2e-sec-a-{tag}", "community_secretary", COMMUNITY_A)
    make_user(suite, admin, f"e2e-lucheng-{tag}", "county_admin", LUCHENG)
    worker_user = httpx.post(
        f"{suite.gateway}/api/v1/identity/users",
        headers=admin,
        json={
            "username": f"e2e-worker-{tag}",
            "name": "e2e worker",
            "password": "a long enough password",
            "worker_id": in_a["id"],
            "grants": [{"right": "worker", "region": COMMUNITY_A}],
        },
    )
    assert worker_user.status_code == 201
    secretary = bearer(token_for(suite, f"e2e-sec-a-{tag}", "a long enough password")["access_token"])
    county = bearer(token_for(suite, f"e2e-lucheng-{tag}", "a long enough password")["access_token"])
    worker = bearer(token_for(suite, f"e2e-worker-{tag}", "a long enough password")["access_token"])

    assert httpx.get(f"{api}/workers/{in_a['id']}", headers=secretary).status_code == 200
    assert httpx.get(f"{api}/workers/{in_b['id']}", headers=secretary).status_code == 404
    assert httpx.get(f"{api}/regions/{COMMUNITY_B}", headers=secretary).status_code == 404
    change_b = httpx.patch(
        f"{api}/workers/{in_b['id']}", headers={**secretary, "If-Match": '"x-1"'}, json={"generalist": True}
    )
    assert change_b.status_code == 404
    report_b = httpx.get(f"{api}/reports/staffing", headers=secretary, params={"region": COMMUNITY_B})
    assert report_b.status_code == 404

    seen = {w["id"] for w in httpx.get(f"{api}/workers", headers=county, params={"limit": 500}).json()["items"]}
    assert {in_a["id"], in_b["id"]} <= seen
    assert in_ouhai["id"] not in seen
    assert httpx.get(f"{api}/workers/{in_ouhai['id']}", headers=county).status_code == 404

    mine = httpx.get(f"{api}/workers", headers=worker).json()["items"]
    assert [w["id"] for w in mine] == [in_a["id"]]
    assert httpx.get(f"{api}/workers/{in_b['id']}", headers=worker).status_code == 404
    # And the same token, sent straight to the roster, is checked there too.
    assert httpx.get(f"{suite.service_url('roster')}/v1/workers/{in_b['id']}", headers=worker).status_code == 404
    assert httpx.get(f"{suite.service_url('roster')}/v1/workers/{in_a['id']}", headers=worker).status_code == 200
