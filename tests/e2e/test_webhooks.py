"""Webhooks end to end (docs/webhooks.md): the gateway follows the real services' feeds and delivers, signed
(Standard Webhooks), to a receiver on loopback that is down for the first tries of every event. In the
end the receiver holds every event of its region exactly once (deduplicated by webhook-id), every
signature verifies, nothing of another region arrives (WH1), and after a secret rotation either secret
verifies (WH3). In 绍兴市 330600 and 宁波市 330200, which no other test uses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import bearer
from services.gateway.tests.webhook_receiver import running_receiver
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, signed_in, token_for
from tests.e2e.test_pay_and_assessment import eventually

pytestmark = pytest.mark.e2e
OURS, OTHERS = ("330600", "330602"), ("330200", "330203")
REFUSED_TRIES = 2  # of every event: fewer than the three retries the suite allows (tests/e2e/conftest.py)


def test_a_receiver_down_for_the_first_tries_gets_every_event_of_its_region_once_signed(suite: Suite) -> None:
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    roster = f"{suite.gateway}/api/v1/roster"
    hooks = f"{suite.gateway}/api/v1/webhooks"
    platform = signed_in(suite, "county_admin", OURS[1])  # a county's platform account
    with running_receiver(refuse_first=REFUSED_TRIES) as receiver:
        # A county may not subscribe to another county's events (WH5).
        outside = httpx.post(
            f"{hooks}/subscriptions",
            headers=platform,
            json={"url": receiver.url, "event_types": ["quota.set"], "region_code": OTHERS[1]},
        )
        assert outside.status_code == 404, outside.text
        assert outside.json()["errors"][0]["field"] == "region_code"
        created = httpx.post(
            f"{hooks}/subscriptions",
            headers=platform,
            json={"url": receiver.url, "event_types": ["region.created", "quota.set"], "region_code": OURS[1]},
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        secret = subscription["secret"]
        assert secret.startswith("whsec_")

        # Changes in both cities: only those inside 330602 may reach the receiver.
        assert httpx.post(
            f"{roster}/regions", headers=admin, json={"code": "330000", "name": "浙江省"}
        ).status_code in (
            201,
            409,
        )
        for city, county in (OURS, OTHERS):
            for code, parent in ((city, "330000"), (county, city)):
                response = httpx.post(
                    f"{roster}/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent}
                )
                assert response.status_code == 201, response.text
            for year in (2025, 2026):
                response = httpx.put(f"{roster}/quotas/{county}/{year}", headers=admin, json={"headcount": 7})
                assert response.status_code == 200, response.text

        def all_three() -> dict[str, Any] | None:
            got = receiver.by_webhook_id()
            return got if len(got) >= 3 else None

        # The county's creation and its two quotas; not the city (outside the county), nothing of 330200.
        received = eventually(all_three, timeout=60)
        events = {wid: json.loads(r.body) for wid, r in received.items()}
        kinds = sorted((e["type"], e["region"], e["data"].get("year")) for e in events.values())
        assert kinds == [
            ("quota.set", OURS[1], 2025),
            ("quota.set", OURS[1], 2026),
            ("region.created", OURS[1], None),
        ], kinds

        # Every signature verifies; each webhook-id was refused REFUSED_TRIES times, then kept once.
        for wid, item in received.items():
            Webhook(secret).verify(item.body, item.headers)
            assert item.headers["webhook-id"] == wid == f"evt_roster_{events[wid]['event_id']}"
            assert receiver.tries[wid] == REFUSED_TRIES + 1

        # The delivery log shows the tries: two 503s, then 204, delivered.
        log = httpx.get(f"{hooks}/subscriptions/{subscription['id']}/deliveries", headers=platform).json()["items"]
        assert len(log) == len(received)
        assert all(d["status"] == "delivered" and d["status_codes"] == [503, 503, 204] for d in log), log

        # Rotation: deliveries now carry the new and the previous signature; either secret verifies (WH3).
        rotated = httpx.post(f"{hooks}/subscriptions/{subscription['id']}/secret:rotate", headers=platform)
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != secret
        assert rotated.json()["previous_secret_until"]
        assert httpx.put(f"{roster}/quotas/{OURS[1]}/2027", headers=admin, json={"headcount": 8}).status_code == 200
        assert httpx.put(f"{roster}/quotas/{OTHERS[1]}/2027", headers=admin, json={"headcount": 8}).status_code == 200

        def the_fifth() -> list[Any] | None:
            got = [r for wid, r in receiver.by_webhook_id().items() if wid not in received]
            return got or None

        (after_rotation,) = eventually(the_fifth, timeout=60)
        assert json.loads(after_rotation.body)["data"] == {"county_code": OURS[1], "year": 2027, "headcount": 8}
        assert len(after_rotation.headers["webhook-signature"].split(" ")) == 2
        Webhook(new_secret).verify(after_rotation.body, after_rotation.headers)
        Webhook(secret).verify(after_rotation.body, after_rotation.headers)
        assert len(receiver.by_webhook_id()) == 3 + 1
