"""Webhook rules, pure (no I/O): which events a subscription receives, where it may point, how a
delivery is signed, and when a failed delivery is tried again. The rule ids (WH1–WH5) are those of
``docs/webhooks.md``.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from shared.i18n import Message
from shared.regions import contains, is_region_code

RULE_REGION = "WH1"  # an event goes only to subscriptions whose region contains the event's region
RULE_URL = "WH2"  # http(s) only; loopback and link-local only where the deployment allows it (dev, tests)
RULE_SIGNATURE = "WH3"  # Standard Webhooks signature; both secrets sign during a rotation's overlap
RULE_RETRY = "WH4"  # retried with exponential backoff and jitter, parked after the last try
RULE_OWNER_SCOPE = "WH5"  # the subscriber must still hold a reading role over the subscription's region

SECRET_PREFIX = "whsec_"


def webhook_id(source: str, event_id: int) -> str:
    """The ``webhook-id`` of an event: the same for every try, unique across the suite's feeds (WH3)."""
    return f"evt_{source}_{event_id}"


def matches(event_type: str, event_region: str | None, types: Sequence[str], region: str) -> bool:
    """WH1: the subscription takes this type (or ``*``) and its region contains the event's. An event
    without a region (a suite-wide change) goes to no one."""
    if event_type not in types and "*" not in types:
        return False
    return event_region is not None and is_region_code(event_region) and contains(region, event_region)


def is_local_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """WH2: an address no webhook may reach outside development: loopback, link-local (cloud metadata at
    169.254.169.254), unspecified, multicast; an IPv4-mapped IPv6 address is judged as its IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast


def url_problem(url: str, allow_loopback: bool) -> Message | None:
    """WH2: why a subscription may not point at ``url`` (None when it may)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Message("须为 http(s) 地址", "must be an http(s) URL")
    if parts.username or parts.password:
        return Message("地址中不得含用户名或密码", "must not carry a user name or password")
    host = parts.hostname.lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    else:
        local = is_local_address(address)
    if local and not allow_loopback:
        return Message(
            "不得指向本机或链路本地地址（仅开发与测试环境允许）",
            "must not point at loopback or link-local addresses (allowed only in development and tests)",
        )
    return None


def new_secret(random_bytes: bytes) -> str:
    """``whsec_<base64>`` of 24 to 64 random bytes (Standard Webhooks)."""
    assert 24 <= len(random_bytes) <= 64
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def signature(secrets: Sequence[str], message_id: str, timestamp: datetime, body: str) -> str:
    """WH3: the ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per
    secret, space-separated (the current secret first; the previous one too while the overlap lasts)."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)


def retry_delay(attempts: int, schedule: Sequence[float], jitter: float) -> float | None:
    """WH4: seconds to wait after the ``attempts``-th failed try, or None when the schedule is spent (park).

    ``schedule`` is the base delay after each failure (doubling in the default setting); ``jitter`` in
    [0, 1) spreads each wait over ±20 % so receivers that come back are not hit by every sender at once.
    """
    if attempts < 1:
        raise ValueError("attempts counts tries made: at least 1")
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return base * (0.8 + 0.4 * jitter)
