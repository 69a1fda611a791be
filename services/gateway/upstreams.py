"""Several replicas of a service behind the gateway (issue #15): round-robin, skipping one that is down.

A service's URL setting may name several base URLs, comma-separated
(``SHEGONG_GATEWAY_ROSTER_URL=http://10.0.0.5:8001,http://10.0.0.6:8001``); one URL (a Kubernetes
Service, which balances itself) is the same as before. The proxy takes the replicas in turn; a replica
that refuses the connection — nothing was sent, so any method may go to the next one — is skipped for
``upstream_cooldown_seconds`` and tried again only after that, or when every other one is down too.
A replica that accepted the request and then failed is not retried (the request may have had an
effect): that answer is 502/504 as before.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator


def replicas(configured: str) -> list[str]:
    """The base URLs of one service's setting (one, or several comma-separated), without trailing slashes."""
    return [url.strip().rstrip("/") for url in configured.split(",") if url.strip()]


class Balancer:
    """Which replica of a service gets the next request; shared by every request of one gateway process."""

    def __init__(self, cooldown_seconds: float) -> None:
        self.cooldown_seconds = cooldown_seconds
        self._turns: dict[str, Iterator[int]] = {}
        self._down_until: dict[str, float] = {}

    def order(self, configured: str) -> list[str]:
        """The replicas to try for the next request: the next in turn first, the ones known down last."""
        urls = replicas(configured)
        if len(urls) <= 1:
            return urls
        now = time.monotonic()
        up = [url for url in urls if self._down_until.get(url, 0.0) <= now]
        down = [url for url in urls if url not in up]
        if not up:
            return down
        # The turn goes round the replicas that are up, so a down one's share is spread evenly.
        start = next(self._turns.setdefault(configured, itertools.count())) % len(up)
        return up[start:] + up[:start] + down

    def first(self, configured: str) -> str:
        """The replica for a call the gateway makes itself (a lookup, a document)."""
        return self.order(configured)[0]

    def refused(self, url: str) -> None:
        """``url`` refused a connection: skip it for a while."""
        self._down_until[url] = time.monotonic() + self.cooldown_seconds

    def answered(self, url: str) -> None:
        self._down_until.pop(url, None)

    def down(self) -> list[str]:
        now = time.monotonic()
        return [url for url, until in self._down_until.items() if until > now]
