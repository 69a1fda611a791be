"""The pure webhook rules (services.gateway.domain.webhooks): matching by type and region (WH1), where a
subscription may point (WH2), signatures that a Standard Webhooks receiver verifies with either secret
during a rotation (WH3), the retry schedule with jitter and parking (WH4)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.gateway.domain.webhooks import (
    matches,
    new_secret,
    retry_delay,
    signature,
    url_problem,
    webhook_id,
)
from shared.regions import contains


def test_wh1_an_event_goes_only_inside_the_subscriptions_region_and_types() -> None:
    assert matches("quota.set", "330602", ["quota.set"], "330600")
    assert matches("worker.hired", "330602001001", ["*"], "330602")
    assert not matches("quota.set", "330702", ["quota.set"], "330600")  # another city
    assert not matches("quota.set", "330600", ["quota.set"], "330602")  # the city is not inside its county
    assert not matches("worker.hired", "330602", ["quota.set"], "330602")  # another type
    assert not matches("step_up.applied", None, ["*"], "330000")  # no region: goes to no one
    assert not matches("quota.set", "not-a-code", ["*"], "330000")


COUNTIES = st.sampled_from(["330602", "330702", "330302", "331002"])
CODES = st.one_of(
    st.sampled_from(["330000", "330600", "330700", "330300"]),
    COUNTIES,
    st.builds(lambda c, t, v: f"{c}{t:03d}{v:03d}", COUNTIES, st.integers(1, 20), st.integers(0, 20)),
)


@given(event_region=CODES, subscription_region=CODES)
def test_wh1_matching_is_region_containment(event_region: str, subscription_region: str) -> None:
    assert matches("x.y", event_region, ["x.y"], subscription_region) == contains(subscription_region, event_region)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://platform.zj.gov.cn/hooks", True),
        ("http://10.1.2.3:8080/hooks", True),  # government intranets
        ("ftp://platform.zj.gov.cn/hooks", False),
        ("https://user:pw@platform.zj.gov.cn/hooks", False),
        ("http://127.0.0.1:9000/hooks", False),
        ("http://localhost/hooks", False),
        ("http://[::1]/hooks", False),
        ("http://169.254.169.254/latest/meta-data", False),  # link-local: cloud metadata
        ("not a url", False),
    ],
)
def test_wh2_where_a_subscription_may_point(url: str, allowed: bool) -> None:
    assert (url_problem(url, allow_loopback=False) is None) == allowed


def test_wh2_loopback_only_where_the_deployment_allows_it() -> None:
    assert url_problem("http://127.0.0.1:9000/hooks", allow_loopback=True) is None
    assert url_problem("ftp://127.0.0.1/hooks", allow_loopback=True) is not None


def test_wh3_both_secrets_sign_during_the_overlap_and_a_receiver_verifies_with_either() -> None:
    old, new, stranger = (new_secret(bytes([n]) * 32) for n in (1, 2, 3))
    now = datetime.now(UTC)
    msg_id, body = webhook_id("roster", 42), '{"type":"quota.set"}'
    assert msg_id == "evt_roster_42"
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature([new, old], msg_id, now, body),
    }
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + " ", headers)  # the body is what is signed


def test_wh3_the_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    import base64
    import hashlib
    import hmac

    secret = new_secret(b"k" * 32)
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    expected = hmac.new(b"k" * 32, f"evt_roster_1.{int(at.timestamp())}.{{}}".encode(), hashlib.sha256).digest()
    assert signature([secret], "evt_roster_1", at, "{}") == "v1," + base64.b64encode(expected).decode()


SCHEDULE = [5.0 * 2**n for n in range(14)]


@given(attempts=st.integers(1, 14), jitter=st.floats(0, 1, exclude_max=True))
def test_wh4_each_wait_is_its_base_within_twenty_percent(attempts: int, jitter: float) -> None:
    delay = retry_delay(attempts, SCHEDULE, jitter)
    base = SCHEDULE[attempts - 1]
    assert delay is not None
    assert 0.8 * base <= delay <= 1.2 * base


@given(attempts=st.integers(15, 1000), jitter=st.floats(0, 1, exclude_max=True))
def test_wh4_a_spent_schedule_parks(attempts: int, jitter: float) -> None:
    assert retry_delay(attempts, SCHEDULE, jitter) is None


def test_wh4_waits_grow_exponentially() -> None:
    waits = [retry_delay(n, SCHEDULE, 0.5) for n in range(1, 15)]
    assert waits[0] == 5.0
    assert all(b == 2 * a for a, b in itertools.pairwise(waits) if a and b)
    assert sum(w for w in waits if w) > 20 * 3600  # a subscriber down for most of a day loses nothing
