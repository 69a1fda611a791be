"""The codes' labels the console shows are the services' own (``GET /v1/meta/enums``), so a status or a post
reads the same in the console, in an export and in the mobile app, in the policy's words (P1: 正职, 副职,
工作人员). Each service's table is read once per process, at the first page that calls the services (codes
change only with a deployment); until a service answers, its codes show as they are, and it is asked again."""

from __future__ import annotations

import httpx

SERVICES = ("roster", "compensation", "evaluation")


class CodeLabels:
    """``tables[name][code]``: the zh label of a code, e.g. ``tables["worker_status"]["active"] == "在岗"``."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, str]] = {}
        self.read: set[str] = set()

    async def read_missing(self, http: httpx.AsyncClient, upstreams: dict[str, str]) -> None:
        for service in SERVICES:
            if service in self.read or service not in upstreams:
                continue
            try:
                response = await http.get(f"{upstreams[service]}/v1/meta/enums", timeout=5)
                response.raise_for_status()
                tables: dict[str, dict[str, str]] = response.json()["enums"]
            except (httpx.HTTPError, ValueError, KeyError):
                continue  # shown as codes meanwhile; asked again at the next page
            self.tables |= tables
            self.read.add(service)
