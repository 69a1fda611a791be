"""Webhook subscriptions through the gateway's API, and their deliveries made by the real feed handler and
delivery worker against a receiver on loopback (docs/webhooks.md, WH1–WH5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from conftest import InProcessService, ServiceFactory
from services.gateway.models import Grant, WebhookDelivery
from services.gateway.tests.conftest import AccountFactory, make_account
from services.gateway.tests.webhook_receiver import running_receiver
from services.gateway.webhook_feeds import delivery_recorder
from services.gateway.webhook_sender import deliver_due_once, sender_config

HOOKS = "/api/v1/webhooks"
COUNTY, OTHER_COUNTY = "330602", "330702"


def event(event_id: int, type_: str = "quota.set", region: str | None = COUNTY) -> dict[str, Any]:
    """An event as a service's feed publishes it."""
    return {
        "id": event_id,
        "cursor": f"c{event_id}",
        "type": type_,
        "occurred_at": datetime.now(UTC).isoformat(),
        "request_id": None,
        "subject": f"quota/{region}/2026",
        "data": {"county_code": region, "year": 2026, "headcount": 7},
        "region": region,
    }


async def feed(gateway: InProcessService, *events: dict[str, Any], source: str = "roster") -> None:
    """The events through the feed handler, in one transaction (as the FeedConsumer applies a page)."""
    async with gateway.app.state.sessionmaker() as session:
        for item in events:
            await delivery_recorder(source)(session, item)
        await session.commit()


async def deliveries(gateway: InProcessService) -> list[WebhookDelivery]:
    async with gateway.app.state.sessionmaker() as session:
        return list((await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())


async def deliver(gateway: InProcessService) -> int:
    settings = gateway.app.state.settings
    return await deliver_due_once(
        gateway.app.state.sessionmaker,
        gateway.app.state.webhook_http,
        sender_config(settings, gateway.app.state.webhook_secrets),
    )


async def test_a_subscription_is_managed_by_its_owner_only(gateway: InProcessService, account: AccountFactory) -> None:
    owner = await account(("county_admin", COUNTY))
    other = await account(("county_admin", COUNTY))
    body = {"url": "https://platform.example.gov.cn/hooks", "event_types": ["quota.set"], "region_code": COUNTY}
    created = await gateway.client.post(f"{HOOKS}/subscriptions", headers=owner.headers, json=body)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_")
    assert created.headers["location"] == f"{HOOKS}/subscriptions/{sub['id']}"
    listed = (await gateway.client.get(f"{HOOKS}/subscriptions", headers=owner.headers)).json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert "secret" not in listed[0]  # shown once
    # Another account of the same county sees nothing of it.
    assert (await gateway.client.get(f"{HOOKS}/subscriptions", headers=other.headers)).json()["items"] == []
    for method, path in (
        ("GET", f"/subscriptions/{sub['id']}"),
        ("PATCH", f"/subscriptions/{sub['id']}"),
        ("DELETE", f"/subscriptions/{sub['id']}"),
        ("POST", f"/subscriptions/{sub['id']}/secret:rotate"),
        ("GET", f"/subscriptions/{sub['id']}/deliveries"),
    ):
        kwargs: dict[str, Any] = {"json": {"active": False}} if method == "PATCH" else {}
        response = await gateway.client.request(method, HOOKS + path, headers=other.headers, **kwargs)
        assert response.status_code == 404, (method, path, response.text)

    patched = await gateway.client.patch(
        f"{HOOKS}/subscriptions/{sub['id']}", headers=owner.headers, json={"event_types": ["*"], "active": False}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["event_types"] == ["*"]
    assert patched.json()["active"] is False
    rotated = await gateway.client.post(f"{HOOKS}/subscriptions/{sub['id']}/secret:rotate", headers=owner.headers)
    assert rotated.json()["secret"] != sub["secret"]
    assert rotated.json()["previous_secret_until"] is not None
    assert (await gateway.client.delete(f"{HOOKS}/subscriptions/{sub['id']}", headers=owner.headers)).status_code == 204
    assert (await gateway.client.get(f"{HOOKS}/subscriptions/{sub['id']}", headers=owner.headers)).status_code == 404


async def test_wh1_wh5_a_region_outside_the_callers_scope_does_not_exist_for_it(
    gateway: InProcessService, account: AccountFactory
) -> None:
    owner = await account(("county_admin", COUNTY))
    for region in (OTHER_COUNTY, "330000"):
        response = await gateway.client.post(
            f"{HOOKS}/subscriptions",
            headers=owner.headers,
            json={"url": "https://p.example.gov.cn/h", "event_types": ["quota.set"], "region_code": region},
        )
        assert response.status_code == 404, response.text  # outside its scope a region does not exist
        (error,) = response.json()["errors"]
        assert (error["field"], error["rule"]) == ("region_code", "WH5")
        assert error["detail_zh"]
        assert error["detail_en"]


async def test_wh2_loopback_is_refused_unless_the_deployment_allows_it(service_app: ServiceFactory) -> None:
    gateway = await service_app("gateway", webhook_allow_loopback=False)
    owner = await make_account(gateway, ("county_admin", COUNTY))
    for url in ("http://127.0.0.1:9/h", "ftp://p.example.gov.cn/h", "http://169.254.169.254/"):
        response = await gateway.client.post(
            f"{HOOKS}/subscriptions",
            headers=owner.headers,
            json={"url": url, "event_types": ["quota.set"], "region_code": COUNTY},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["rule"] == "WH2"


async def test_events_become_deliveries_once_inside_the_region_and_while_the_owner_may_read_it(
    service_app: ServiceFactory,
) -> None:
    gateway = await service_app("gateway", webhook_retry_seconds=[0.0, 0.0])
    owner = await make_account(gateway, ("county_admin", COUNTY))
    with running_receiver(refuse_first=1) as receiver:
        sub = (
            await gateway.client.post(
                f"{HOOKS}/subscriptions",
                headers=owner.headers,
                json={"url": receiver.url, "event_types": ["quota.set"], "region_code": COUNTY},
            )
        ).json()
        # WH1: the other county's event, another type and a region-less event record nothing; a page
        # applied twice (a consumer that died before its cursor) records nothing twice.
        page = [event(1), event(2, region=OTHER_COUNTY), event(3, type_="region.created"), event(4, region=None)]
        await feed(gateway, *page)
        await feed(gateway, *page)
        assert [(d.source, d.event_id, d.webhook_id) for d in await deliveries(gateway)] == [
            ("roster", 1, "evt_roster_1")
        ]
        # The same event id from another service's feed is another event.
        await feed(gateway, event(1), source="evaluation")
        assert len(await deliveries(gateway)) == 2

        # First try refused (503), second delivered: one webhook-id each, signed with the secret.
        assert await deliver(gateway) == 2
        assert await deliver(gateway) == 2
        assert await deliver(gateway) == 0
        got = receiver.by_webhook_id()
        assert sorted(got) == ["evt_evaluation_1", "evt_roster_1"]
        for item in got.values():
            Webhook(sub["secret"]).verify(item.body, item.headers)
            assert json.loads(item.body)["data"]["county_code"] == COUNTY
        log = (await gateway.client.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=owner.headers)).json()
        assert [(d["status"], d["attempts"], d["status_codes"]) for d in log["items"]] == [
            ("delivered", 2, [503, 204]),
            ("delivered", 2, [503, 204]),
        ]

        # WH5: once the owner's grant is revoked, nothing more is recorded for it.
        async with gateway.app.state.sessionmaker() as session:
            await session.execute(update(Grant).where(Grant.user_id == owner.id).values(revoked_at=datetime.now(UTC)))
            await session.commit()
        await feed(gateway, event(5))
        assert len(await deliveries(gateway)) == 2


async def test_wh4_a_delivery_is_parked_after_the_last_try_and_redelivered_on_request(
    service_app: ServiceFactory,
) -> None:
    gateway = await service_app("gateway", webhook_retry_seconds=[0.0, 0.0])
    owner = await make_account(gateway, ("county_admin", COUNTY))
    with running_receiver(refuse_first=3) as receiver:
        sub = (
            await gateway.client.post(
                f"{HOOKS}/subscriptions",
                headers=owner.headers,
                json={"url": receiver.url, "event_types": ["*"], "region_code": COUNTY},
            )
        ).json()
        await feed(gateway, event(7))
        for _ in range(3):
            assert await deliver(gateway) == 1
        assert await deliver(gateway) == 0  # parked: no more tries
        (parked,) = (
            await gateway.client.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=owner.headers)
        ).json()["items"]
        assert parked["status"] == "parked"
        assert parked["parked"] is True
        assert parked["status_codes"] == [503, 503, 503]
        assert parked["next_attempt_at"] is None
        assert receiver.by_webhook_id() == {}

        again = await gateway.client.post(f"{HOOKS}/deliveries/{parked['id']}:redeliver", headers=owner.headers)
        assert again.status_code == 200, again.text
        assert (again.json()["status"], again.json()["attempts"]) == ("pending", 0)
        assert await deliver(gateway) == 1
        assert list(receiver.by_webhook_id()) == ["evt_roster_7"]
        other = await make_account(gateway, ("county_admin", COUNTY))
        refused = await gateway.client.post(f"{HOOKS}/deliveries/{parked['id']}:redeliver", headers=other.headers)
        assert refused.status_code == 404
