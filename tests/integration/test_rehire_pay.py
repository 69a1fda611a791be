"""Leaving and re-hiring as the roster publishes them, paid by compensation: the months of the first
employment stay paid (no claw-back), the months between are not paid, and a re-hire in the middle of a
month pays that month once — the Wenzhou joining month in full (C6) at the new post, not the old post's
days on top. Real commits, in 贵州 520000, which no other test uses."""

from __future__ import annotations

from typing import Any

from conftest import Mint, ServiceFactory, bearer
from services.roster.tests.conftest import id_number
from tests.integration.regions import region_tree
from tests.integration.test_feeds import drain, wire


async def test_a_worker_hired_again_mid_month_is_paid_once_for_each_month(
    service_app: ServiceFactory, mint: Mint
) -> None:
    roster = await service_app("roster", rollback=False)
    compensation = await service_app("compensation", rollback=False)
    await wire(compensation, roster, mint(("service", "520000"), subject="client:compensation"))
    admin = bearer(mint(("province_admin", "520000")))
    await region_tree(roster, admin, "520000")
    for year in (2025, 2026):
        quota = await roster.client.put(f"/v1/quotas/520102/{year}", headers=admin, json={"headcount": 5})
        assert quota.status_code == 200, quota.text
    person = {"id_number": id_number(1, birth="19850505", region="520102"), "name": "黔1"}
    hired = await roster.client.post(
        "/v1/workers", headers=admin, json=person | {"community_code": "520102001001", "hire_date": "2025-11-03"}
    )
    assert hired.status_code == 201, hired.text
    worker = hired.json()["id"]
    post = {"post": "staff", "grade": 3, "start_date": "2025-11-03"}
    assert (await roster.client.post(f"/v1/workers/{worker}/posts", headers=admin, json=post)).status_code == 201
    cells = [{"post": "staff", "grade": g, "annual_amount": str(78000 + 3000 * g)} for g in range(1, 13)]
    for year in (2025, 2026):
        scale = await compensation.client.put(f"/v1/pay-scales/520102/{year}", headers=admin, json={"cells": cells})
        assert scale.status_code == 200, scale.text
    assert await drain(compensation, at_least=2) >= 2

    async def paid(month: str) -> dict[str, Any]:
        run = await compensation.client.post(
            "/v1/payroll-runs", headers=admin, json={"region_code": "520102", "month": month}
        )
        calculated = await compensation.client.post(f"/v1/payroll-runs/{run.json()['id']}/calculate", headers=admin)
        assert calculated.status_code == 200, calculated.text
        approver = bearer(mint(("province_admin", "520000")))  # not who calculated it (separation of duties)
        approved = await compensation.client.post(f"/v1/payroll-runs/{run.json()['id']}/approve", headers=approver)
        assert approved.status_code == 200, approved.text
        body: dict[str, Any] = approved.json()
        return body

    assert (await paid("2025-11"))["gross_total"] == "5075.00"  # joined on the 3rd: the month in full (C6)
    etag = (await roster.client.get(f"/v1/workers/{worker}", headers=admin)).headers["etag"]
    left = await roster.client.patch(
        f"/v1/workers/{worker}", headers={**admin, "If-Match": etag}, json={"status": "left", "left_date": "2025-11-30"}
    )
    assert left.status_code == 200, left.text
    again = await roster.client.post(
        "/v1/workers", headers=admin, json=person | {"community_code": "520102001001", "hire_date": "2026-02-10"}
    )
    assert again.status_code == 201, again.text
    assert again.json()["id"] == worker  # one person record
    post = {"post": "staff", "grade": 5, "start_date": "2026-02-10"}
    assert (await roster.client.post(f"/v1/workers/{worker}/posts", headers=admin, json=post)).status_code == 201
    assert await drain(compensation, at_least=3) >= 3

    assert (await paid("2026-01"))["workers"] == 0  # between the two employments
    february = await paid("2026-02")
    # re-hired on the 10th at grade 5: 93,000 × 70 % / 12 = 5,425.00, the joining month in full, once
    assert (february["workers"], february["gross_total"]) == (1, "5425.00")
    slips = (await compensation.client.get(f"/v1/workers/{worker}/payslips", headers=admin)).json()
    assert [(s["month"], s["gross"]) for s in slips] == [("2025-11", "5075.00"), ("2026-02", "5425.00")]
