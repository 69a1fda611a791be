"""The codes' labels the console shows are the services' own (``GET /v1/meta/enums``), so a status or a post
reads the same in the console, in an export and in the mobile app, in the policy's words (P1: 正职, 副职,
工作人员). Each service's table is read once per process, at the first page that calls the services (codes
change only with a deployment); until a service answers, its codes show as they are, and it is asked again at most every
``RETRY_SECONDS``."""

from __future__ import annotations

import time

from services.gateway.console.upstream import ApiError, ConsoleApi

SERVICES = ("roster", "compensation", "evaluation")
RETRY_SECONDS = 30.0  # a service that did not answer is asked again at a page after this long, not at every page


class CodeLabels:
    """``tables[name][code]``: the zh label of a code, e.g. ``tables["worker_status"]["active"] == "在岗"``."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, str]] = {}
        self.read: set[str] = set()
        self.tried_at: dict[str, float] = {}

    async def read_missing(self, api: ConsoleApi) -> None:
        """Each service's table not read yet, through the console's own client (its URLs, its errors)."""
        now = time.monotonic()
        for service in SERVICES:
            if service in self.read or now - self.tried_at.get(service, -RETRY_SECONDS) < RETRY_SECONDS:
                continue
            self.tried_at[service] = now
            try:
                tables: dict[str, dict[str, str]] = (await api.get(service, "/meta/enums"))["enums"]
            except (ApiError, ValueError, KeyError):
                continue  # shown as codes meanwhile
            self.tables |= tables
            self.read.add(service)
