"""Data exchange through the gateway: a county platform (a real API client, client credentials) follows
its county's roster feed and never sees another county's event; it exports the workers list as CSV
(streamed through the gateway) and pulls changes with ``updated_since``. 金华市 (330700): 婺城区 330702,
金东区 330703."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import bearer
from services.roster.tests.conftest import id_number
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, token_for

pytestmark = pytest.mark.e2e
CITY, OURS, THEIRS = "330700", "330702", "330703"


def county_platform(suite: Suite, admin: dict[str, str], county: str) -> dict[str, str]:
    client_id = f"platform-{uuid.uuid4().hex[:8]}"
    created = httpx.post(
        f"{suite.gateway}/api/v1/identity/clients",
        headers=admin,
        json={
            "client_id": client_id,
            "name": "县级平台",
            "department": "县委组织部",
            "grants": [{"right": "auditor", "region": county}],
        },
    )
    assert created.status_code == 201, created.text
    token = httpx.post(
        f"{suite.gateway}/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": created.json()["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    return bearer(token.json()["access_token"])


def test_a_county_platform_follows_its_feed_exports_and_syncs_through_the_gateway(suite: Suite, data_dir: Path) -> None:
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    api = f"{suite.gateway}/api/v1/roster"
    assert httpx.post(f"{api}/regions", headers=admin, json={"code": "330000", "name": "浙江省"}).status_code in (
        201,
        409,
    )
    regions: list[tuple[str, str, dict[str, Any]]] = [(CITY, "330000", {})]
    for county in (OURS, THEIRS):
        regions += [
            (county, CITY, {}),
            (f"{county}001000", county, {}),
            (f"{county}001001", f"{county}001000", {"kind": "urban", "households": 2000}),
        ]
    for code, parent, extra in regions:
        created = httpx.post(
            f"{api}/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
        )
        assert created.status_code == 201, created.text
    for county in (OURS, THEIRS):
        assert httpx.put(f"{api}/quotas/{county}/2026", headers=admin, json={"headcount": 10}).status_code == 200
    platform = county_platform(suite, admin, OURS)
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()

    hired: dict[str, list[str]] = {OURS: [], THEIRS: []}
    for serial, county in enumerate([OURS, THEIRS, OURS, THEIRS]):
        response = httpx.post(
            f"{api}/workers",
            headers=admin,
            json={
                "id_number": id_number(serial, birth="19850505", region=county),
                "name": f"金华{serial}号",
                "community_code": f"{county}001001",
                "hire_date": "2026-01-05",
            },
        )
        assert response.status_code == 201, response.text
        hired[county].append(response.json()["id"])
    leaver = hired[OURS][0]
    etag = httpx.get(f"{api}/workers/{leaver}", headers=admin).headers["etag"]
    left = httpx.patch(
        f"{api}/workers/{leaver}",
        headers={**admin, "If-Match": etag},
        json={"status": "left", "left_date": "2026-03-31"},
    )
    assert left.status_code == 200, left.text

    # The feed, scoped to the platform's county by default.
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = httpx.get(
            f"{api}/events", headers=platform, params={"limit": 50} | ({"after": cursor} if cursor else {})
        ).json()
        events.extend(page["items"])
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    assert events
    assert all(e["region"].startswith(OURS) for e in events)
    seen = {e["data"]["worker_id"] for e in events if e["type"].startswith("worker.")}
    assert seen == set(hired[OURS])
    assert ("worker.left", leaver) in {(e["type"], e["data"]["worker_id"]) for e in events if "worker_id" in e["data"]}
    assert httpx.get(f"{api}/events", headers=platform, params={"region": THEIRS}).status_code == 403

    # The export, streamed through the gateway: the county's workers, masked.
    export = httpx.get(f"{api}/workers", headers={**platform, "Accept": "text/csv; charset=gb18030"})
    assert export.status_code == 200, export.text
    assert export.headers["content-type"] == "text/csv; charset=gb18030"
    header, *rows = list(csv.reader(io.StringIO(export.content.decode("gb18030"))))
    ids = {row[header.index("编号 id")] for row in rows}
    assert ids == set(hired[OURS])
    assert {row[header.index("名称/姓名 name")] for row in rows} == {"金华0号", "金华2号"}
    assert all("*" in row[header.index("身份证号 id_number")] for row in rows)

    # Pull sync: every change of the county since the start, the leaving included.
    sync = httpx.get(f"{api}/workers", headers=platform, params={"updated_since": since, "limit": 500}).json()
    assert {w["id"] for w in sync["items"]} == set(hired[OURS])
    assert {w["id"]: w["status"] for w in sync["items"]}[leaver] == "left"
    assert sync["next_cursor"]
