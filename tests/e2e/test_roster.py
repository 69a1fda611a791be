"""Roster end to end through the gateway: a county, township and community made, the quota set,
workers hired (the one beyond the quota refused, S5), posts assigned, and the staffing report."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conftest import bearer
from services.roster.tests.conftest import id_number
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, token_for

pytestmark = pytest.mark.e2e
CITY, COUNTY, TOWNSHIP, COMMUNITY = "330400", "330402", "330402001000", "330402001001"  # 嘉兴市 南湖区


def test_county_to_staffing_report_through_the_gateway(suite: Suite, data_dir: Path) -> None:
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    api = f"{suite.gateway}/api/v1/roster"
    province = httpx.post(f"{api}/regions", headers=admin, json={"code": "330000", "name": "浙江省"})
    assert province.status_code in (201, 409)
    for code, name, parent, extra in (
        (CITY, "嘉兴市", "330000", {}),
        (COUNTY, "南湖区", CITY, {}),
        (TOWNSHIP, "建设街道", COUNTY, {}),
        (COMMUNITY, "示范社区", TOWNSHIP, {"kind": "urban", "households": 2500}),
    ):
        created = httpx.post(
            f"{api}/regions", headers=admin, json={"code": code, "name": name, "parent_code": parent, **extra}
        )
        assert created.status_code == 201, created.text
    assert created.json()["required_staff"] == 7  # S2: 2,500 households → 7
    assert httpx.put(f"{api}/quotas/{COUNTY}/2026", headers=admin, json={"headcount": 3}).status_code == 200

    hired = []
    for serial in range(3):
        response = httpx.post(
            f"{api}/workers",
            headers=admin,
            json={
                "id_number": id_number(serial, birth="19920202", region=COUNTY),
                "name": f"南湖{serial}",
                "community_code": COMMUNITY,
                "hire_date": "2026-01-05",
                "generalist": True,
            },
        )
        assert response.status_code == 201, response.text
        hired.append(response.json()["id"])
    beyond = httpx.post(
        f"{api}/workers",
        headers=admin,
        json={
            "id_number": id_number(9, birth="19920202", region=COUNTY),
            "name": "第四人",
            "community_code": COMMUNITY,
            "hire_date": "2026-02-01",
        },
    )
    assert beyond.status_code == 422
    assert beyond.json()["rule"] == "S5"

    for worker_id, post, grade in ((hired[0], "chief", 10), (hired[1], "deputy", 6), (hired[2], "staff", 3)):
        assigned = httpx.post(
            f"{api}/workers/{worker_id}/posts",
            headers=admin,
            json={"post": post, "grade": grade, "start_date": "2026-01-05"},
        )
        assert assigned.status_code == 201, assigned.text
    second_chief = httpx.post(
        f"{api}/workers/{hired[2]}/posts", headers=admin, json={"post": "chief", "grade": 9, "start_date": "2026-03-01"}
    )
    assert second_chief.json()["rule"] == "P2"

    report = httpx.get(f"{api}/reports/staffing", headers=admin, params={"region": COUNTY, "date": "2026-06-01"}).json()
    (community,) = report["communities"]
    assert (community["required"], community["actual"]) == (7, 3)
    assert [(f["rule"], f["expected"], f["actual"]) for f in community["findings"]] == [("S2", 7, 3)]
    assert report["quotas"] == [{"county_code": COUNTY, "headcount": 3, "used": 3, "findings": []}]
    # The roster's change feed carries it all, for the other services.
    feed = httpx.get(f"{api}/events", headers=admin, params={"limit": 1000}).json()["items"]
    types = {
        e["type"] for e in feed if e["data"].get("community_code") == COMMUNITY or e["subject"].endswith(COMMUNITY)
    }
    assert {"region.created", "worker.hired", "post.assigned"} <= types
