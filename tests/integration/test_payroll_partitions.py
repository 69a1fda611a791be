"""A large payroll run split over connections by county gives exactly the payslips of one statement.
Real commits (the partitions' connections must see the run), in 山东 370000, which no other test uses."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import Mint, ServiceFactory, bearer
from services.compensation.projections import apply_post, apply_worker


async def test_partitioned_and_single_calculations_agree_to_the_cent(service_app: ServiceFactory, mint: Mint) -> None:
    split = await service_app("compensation", rollback=False, payroll_parallel_threshold=1, payroll_partitions=3)
    admin = bearer(mint(("province_admin", "370000")))
    events: list[dict[str, Any]] = []
    for n in range(30):
        worker = str(uuid.uuid4())
        county = ("370102", "370103", "370104", "370105")[n % 4]
        events.append(
            {
                "type": "worker.hired",
                "data": {
                    "worker_id": worker,
                    "name": f"鲁{n}",
                    "community_code": f"{county}001001",
                    "status": "active",
                    "hire_date": "2025-03-15" if n % 5 else "2026-04-10",
                    "left_date": "2026-04-20" if n % 7 == 0 else None,
                    "education": None,
                    "certificate_level": ("assistant", "social_worker", "senior", None)[n % 4],
                    "certificate_date": "2024-01-01",
                    "version": 1,
                },
            }
        )
        events.append(
            {
                "type": "post.assigned",
                "data": {"worker_id": worker, "post": "staff", "grade": 1 + n % 12, "start_date": "2025-03-15"},
            }
        )
    async with split.app.state.sessionmaker() as session:
        for event in events:
            await (apply_worker if event["type"] == "worker.hired" else apply_post)(session, event)
        await session.commit()
    cells = [{"post": "staff", "grade": g, "annual_amount": f"{80000 + 2500 * g}.37"} for g in range(1, 13)]
    for county in ("370102", "370103", "370104", "370105"):
        assert (
            await split.client.put(f"/v1/pay-scales/{county}/2026", headers=admin, json={"cells": cells})
        ).status_code == 200

    async def calculate(client_app: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        run = (
            await client_app.client.post(
                "/v1/payroll-runs", headers=admin, json={"region_code": "370000", "month": "2026-04"}
            )
        ).json()
        calculated = await client_app.client.post(f"/v1/payroll-runs/{run['id']}/calculate", headers=admin)
        assert calculated.status_code == 200, calculated.text
        slips = (
            await client_app.client.get(f"/v1/payroll-runs/{run['id']}/payslips", headers=admin, params={"limit": 500})
        ).json()
        # cancelled once read: the other way of calculating must be free to pay the same worker-months
        cancelled = await client_app.client.post(f"/v1/payroll-runs/{run['id']}/cancel", headers=admin)
        assert cancelled.status_code == 200, cancelled.text
        return calculated.json(), slips

    split_run, split_slips = await calculate(split)
    single = await service_app("compensation", rollback=False, payroll_parallel_threshold=10_000_000)
    single_run, single_slips = await calculate(single)
    assert split_run["workers"] == single_run["workers"] == 30  # joiners, leavers and stayers all paid in April
    for key in ("gross_total", "net_total", "employer_total"):
        assert split_run[key] == single_run[key]
    assert without_run_id(split_slips) == without_run_id(single_slips)


def without_run_id(slips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in slip.items() if k != "run_id"} for slip in slips]
