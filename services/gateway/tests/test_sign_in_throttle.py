"""Sign-in throttling: per account with growing delays, per address only at a higher threshold, and the
address taken from X-Forwarded-For only when the connection comes from a trusted proxy."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from conftest import InProcessService, ServiceFactory
from services.gateway.client_address import ClientAddresses
from services.gateway.sign_in_throttle import delay_seconds
from services.gateway.tests.conftest import PASSWORD, AccountFactory, make_account


async def attempt(gateway: InProcessService, username: str, password: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = await gateway.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        headers=headers,
    )
    return response.status_code


def test_account_delays_grow_from_the_threshold_and_are_capped() -> None:
    assert [delay_seconds(n, 5, 900) for n in range(4, 11)] == [0, 1, 2, 4, 8, 16, 32]
    assert delay_seconds(40, 5, 900) == 900
    assert delay_seconds(10_000, 5, 900) == 900


async def test_an_office_behind_one_address_is_not_locked_out_by_its_colleagues_typos(
    gateway: InProcessService, account: AccountFactory
) -> None:
    colleagues = [await account(("worker", f"33030200100{n}")) for n in range(1, 6)]
    for colleague in colleagues:  # ten typos from one NAT address, two per person: no account is locked
        for _ in range(2):
            assert await attempt(gateway, colleague.username, "typo") == 401
    for colleague in colleagues:
        assert await attempt(gateway, colleague.username, PASSWORD) == 200


async def test_a_password_spray_from_one_address_is_slowed_down(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", signin_address_max_failures=8)
    victim = await make_account(gateway, ("worker", "330302001001"))
    for n in range(8):
        assert await attempt(gateway, f"spray-{n}", "guess") == 401
    assert await attempt(gateway, victim.username, PASSWORD) == 429


async def test_a_caller_cannot_pick_its_address_without_a_trusted_proxy(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", signin_address_max_failures=4)
    victim = await make_account(gateway, ("worker", "330302001001"))
    for n in range(4):  # a new X-Forwarded-For each time: ignored, every failure counts against the peer
        assert await attempt(gateway, f"spray-{n}", "guess", forwarded=f"198.51.100.{n}") == 401
    assert await attempt(gateway, victim.username, PASSWORD, forwarded="203.0.113.1") == 429


async def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", signin_address_max_failures=3, trusted_proxies=["127.0.0.0/8"])
    admin = await make_account(gateway, ("province_admin", "330000"))
    office = await make_account(gateway, ("worker", "330302001001"))
    attacker_victim = await make_account(gateway, ("worker", "330302001002"))
    for n in range(3):
        assert await attempt(gateway, f"spray-{n}", "guess", forwarded="203.0.113.7") == 401
    # Another client behind the same proxy is not affected; the sprayer's address is.
    assert await attempt(gateway, office.username, PASSWORD, forwarded="198.51.100.9") == 200
    assert await attempt(gateway, attacker_victim.username, PASSWORD, forwarded="203.0.113.7") == 429
    audit = await gateway.client.get(
        "/api/v1/audit/events", headers=admin.headers, params={"action": "sign_in_failed", "limit": 10}
    )
    assert audit.status_code == 200, audit.text
    assert {event["ip"] for event in audit.json()["items"]} == {"203.0.113.7"}


def _request(peer: str, forwarded: list[str]) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "client": (peer, 50000),
        "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded],
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.0.1", ["6.6.6.6"], "127.0.0.1"),  # trusted proxies: none
    ],
)
def test_with_no_trusted_proxy_the_peer_is_the_client(peer: str, forwarded: list[str], client: str) -> None:
    assert ClientAddresses([]).of(_request(peer, forwarded)) == client


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["6.6.6.6, 203.0.113.7"], "203.0.113.7"),  # what the client wrote itself is ignored
        ("10.0.0.5", ["6.6.6.6", "203.0.113.7, 10.0.0.9"], "203.0.113.7"),  # two proxies of ours
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["not-an-address"], "10.0.0.5"),
        ("10.0.0.5", ["10.0.0.7"], "10.0.0.7"),  # an internal client behind our proxy
        ("192.0.2.1", ["203.0.113.7"], "192.0.2.1"),  # not a trusted proxy: its header is ignored
        ("::ffff:10.0.0.5", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_from_a_trusted_proxy_the_last_untrusted_hop_is_the_client(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert ClientAddresses(["10.0.0.0/8"]).of(_request(peer, forwarded)) == client


def test_the_services_are_served_without_uvicorn_trusting_forwarded_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from shared import serve

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    assert serve.main(["gateway"]) == 0
    assert seen["proxy_headers"] is False  # uvicorn's default trusts X-Forwarded-For from 127.0.0.1
