"""Roster, evaluation and compensation meeting through their feeds, end to end through the gateway:
workers hired in the roster appear in compensation and evaluation; a township closes two years of
assessment; compensation uses the grades in a bonus allocation; a payroll run is calculated and
approved and a worker reads their own payslip; the roster's renewal worklist shows the worker with
two consecutive 不合格 (H8). In 湖州市 330500, which no other test uses."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import bearer
from services.evaluation.tests.conftest import NANHU_SCHEME
from services.roster.tests.conftest import id_number
from tests.e2e.conftest import ADMIN_PASSWORD, Suite, signed_in, token_for

pytestmark = pytest.mark.e2e
CITY, COUNTY, TOWNSHIP, COMMUNITY = "330500", "330502", "330502001000", "330502001001"


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll until ``check`` returns something truthy: the feeds are asynchronous by design."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout} s: {result!r}")
        time.sleep(0.2)


def test_feeds_carry_workers_grades_and_pay_across_the_suite(suite: Suite, data_dir: Path) -> None:
    admin = bearer(token_for(suite, "admin", ADMIN_PASSWORD)["access_token"])
    roster, evaluation, pay = (f"{suite.gateway}/api/v1/{s}" for s in ("roster", "evaluation", "compensation"))
    assert httpx.post(f"{roster}/regions", headers=admin, json={"code": "330000", "name": "浙江省"}).status_code in (
        201,
        409,
    )
    for code, parent, extra in (
        (CITY, "330000", {}),
        (COUNTY, CITY, {}),
        (TOWNSHIP, COUNTY, {}),
        (COMMUNITY, TOWNSHIP, {"kind": "urban", "households": 1600}),
    ):
        assert (
            httpx.post(
                f"{roster}/regions", headers=admin, json={"code": code, "name": code, "parent_code": parent, **extra}
            ).status_code
            == 201
        )
    for year in (2024, 2025, 2026):
        assert httpx.put(f"{roster}/quotas/{COUNTY}/{year}", headers=admin, json={"headcount": 10}).status_code == 200

    workers = []
    for serial, (post, grade) in enumerate((("chief", 10), ("deputy", 6), ("staff", 3))):
        hired = httpx.post(
            f"{roster}/workers",
            headers=admin,
            json={
                "id_number": id_number(serial, birth="19900909", region=COUNTY),
                "name": f"湖州{serial}",
                "community_code": COMMUNITY,
                "hire_date": "2024-01-08",
                "certificate_level": "assistant",
                "certificate_date": "2024-05-01",
            },
        )
        assert hired.status_code == 201, hired.text
        worker_id = hired.json()["id"]
        workers.append(worker_id)
        assert (
            httpx.post(
                f"{roster}/workers/{worker_id}/posts",
                headers=admin,
                json={"post": post, "grade": grade, "start_date": "2024-01-08"},
            ).status_code
            == 201
        )
        for start in ("2024-01-08", "2025-01-08"):
            assert (
                httpx.post(
                    f"{roster}/workers/{worker_id}/contracts", headers=admin, json={"start_date": start}
                ).status_code
                == 201
            )

    # Compensation: a scale, a run — the hires must have arrived through the roster's feed.
    cells = [
        {"post": p, "grade": g, "annual_amount": str(base + 3000 * g)}
        for p, base in (("chief", 100000), ("deputy", 90000), ("staff", 78000))
        for g in range(1, 19)
    ]
    assert httpx.put(f"{pay}/pay-scales/{COUNTY}/2026", headers=admin, json={"cells": cells}).status_code == 200

    # One run, recalculated until the feed has brought all three (a recalculation replaces its lines; a
    # second run of the month would be refused: the first holds the workers it paid).
    created = httpx.post(f"{pay}/payroll-runs", headers=admin, json={"region_code": TOWNSHIP, "month": "2026-01"})
    assert created.status_code == 201, created.text

    def calculated_run() -> dict[str, Any] | None:
        body: dict[str, Any] = httpx.post(f"{pay}/payroll-runs/{created.json()['id']}/calculate", headers=admin).json()
        return body if body.get("workers") == 3 else None

    run = eventually(calculated_run)
    reviewer = signed_in(suite, "county_admin", COUNTY)  # not who calculated it (separation of duties)
    approved = httpx.post(f"{pay}/payroll-runs/{run['id']}/approve", headers=reviewer)
    assert approved.json()["status"] == "approved"
    me = httpx.post(
        f"{suite.gateway}/api/v1/identity/users",
        headers=admin,
        json={
            "username": "huzhou-worker-0",
            "name": "湖州0",
            "password": "a long enough password",
            "worker_id": workers[0],
            "grants": [{"right": "worker", "region": COMMUNITY}],
        },
    )
    assert me.status_code == 201, me.text
    worker_token = bearer(token_for(suite, "huzhou-worker-0", "a long enough password")["access_token"])
    (slip,) = httpx.get(f"{pay}/workers/{workers[0]}/payslips", headers=worker_token).json()
    assert slip["month"] == "2026-01"
    assert Decimal(slip["gross"]) == Decimal("7783.33")  # chief 10: 130,000 × 70 % / 12 = 7,583.33 + 200 (C8 assistant)
    assert httpx.get(f"{pay}/workers/{workers[1]}/payslips", headers=worker_token).status_code == 404

    # Evaluation: two years, the third worker 不合格 both times.
    for year in (2024, 2025):
        assert httpx.put(f"{evaluation}/schemes/{COUNTY}/{year}", headers=admin, json=NANHU_SCHEME).status_code == 200
        cycle = httpx.post(
            f"{evaluation}/cycles", headers=admin, json={"township_code": TOWNSHIP, "year": year}
        ).json()["id"]
        entries = [
            {
                "worker_id": w,
                "rater_group": group,
                "score": score,
                **({"panel_size": 60, "ordinary_share": "0.8"} if group == "residents" else {}),
            }
            for w, score in zip(workers, ("95", "80", "50"), strict=True)
            for group in ("township_cadres", "peers", "residents")
        ]

        def scored(cycle_id: str = cycle, body: list[dict[str, Any]] = entries) -> bool:
            # 422 until the evaluation service has the workers from the roster's feed
            response = httpx.post(f"{evaluation}/cycles/{cycle_id}/scores", headers=admin, json={"entries": body})
            return response.status_code == 200

        eventually(scored)
        closed = httpx.post(f"{evaluation}/cycles/{cycle}/close", headers=admin)
        assert closed.status_code == 200, closed.text

    # Compensation shares the 2025 bonus by the grades it received through the evaluation feed.
    coefficients = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}
    assert (
        httpx.put(
            f"{pay}/policy-profiles/{COUNTY}/2025",
            headers=admin,
            json={
                "parameters": {"bonus_coefficients": coefficients},
                "sources": {"bonus_coefficients": "吴兴区绩效奖金办法"},
            },
        ).status_code
        == 200
    )

    def allocation() -> dict[str, Any] | None:
        # C5: refused (409, no allocation named) until the township's cycle.closed, recorded after every grade,
        # has reached payroll; the first allocation made then shares among all three workers.
        response = httpx.post(
            f"{pay}/bonus-allocations",
            headers=admin,
            json={"township_code": TOWNSHIP, "year": 2025, "pool": "30000.00"},
        )
        if response.status_code == 409:
            assert response.json()["rule"] == "C5", response.text
            assert "allocation_id" not in response.json(), response.text  # not allocated before
            return None
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    allocated = eventually(allocation)
    assert len(allocated["shares"]) == 3  # every grade of the cycle, at the first allocation
    shares = {s["worker_id"]: s for s in allocated["shares"]}
    assert sum(Decimal(s["share"]) for s in shares.values()) == Decimal("30000.00")
    # 95 points is 优秀, but the 20 % cap of three workers admits none: 合格 (the cap applies per township).
    assert (shares[workers[0]]["grade"], shares[workers[2]]["grade"], shares[workers[2]]["share"]) == (
        "competent",
        "incompetent",
        "0.00",
    )

    # C5: the next run pays each share once, on a bonus line naming C5 (the third worker's share is 0.00).
    february = httpx.post(f"{pay}/payroll-runs", headers=admin, json={"region_code": TOWNSHIP, "month": "2026-02"})
    assert february.status_code == 201, february.text
    calculated = httpx.post(f"{pay}/payroll-runs/{february.json()['id']}/calculate", headers=admin)
    assert calculated.status_code == 200, calculated.text
    slips = httpx.get(
        f"{pay}/payroll-runs/{february.json()['id']}/payslips", headers=admin, params={"limit": 500}
    ).json()
    bonus = {s["worker_id"]: [line for line in s["lines"] if line["kind"] == "bonus"] for s in slips}
    for worker in workers[:2]:
        (line,) = bonus[worker]
        assert line["amount"] == shares[worker]["share"]
        assert line["basis"].startswith(f"C5 2025 {TOWNSHIP}")
    assert bonus[workers[2]] == []

    # The roster's renewal worklist: the third worker, 不合格 in 2024 and 2025, is not to be renewed (H8).
    def worklist() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = httpx.get(
            f"{roster}/reports/renewals", headers=admin, params={"region": COUNTY, "year": 2026}
        ).json()
        return rows if any(r["bars"] for r in rows) else None

    bars = {r["worker_id"]: [b["rule"] for b in r["bars"]] for r in eventually(worklist)}
    assert bars == {workers[0]: [], workers[1]: [], workers[2]: ["H8"]}
