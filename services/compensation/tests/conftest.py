"""Compensation test helpers: workers and posts put into the projection through the feed handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.compensation.projections import apply_cycle_closed, apply_grade, apply_post, apply_worker

TOWNSHIP, COMMUNITY = "330302001000", "330302001001"  # 鹿城区 (温州: the wenzhou preset)


def graded_events(
    workers: list[str], grades: tuple[str, ...], year: int, township: str = TOWNSHIP
) -> list[dict[str, Any]]:
    """The evaluation feed's events of a closed cycle: each worker's grade, then ``cycle.closed`` (E1, C5)."""
    finalized = [
        {"type": "assessment.finalized", "data": {"worker_id": w, "year": year, "grade": g}}
        for w, g in zip(workers, grades, strict=True)
    ]
    closed = {"cycle_id": str(uuid.uuid4()), "township_code": township, "year": year, "results": len(workers)}
    return [*finalized, {"type": "cycle.closed", "data": closed}]


def worker_event(
    worker_id: str, *, hire: str = "2025-01-05", left: str | None = None, version: int = 1, **data: Any
) -> dict[str, Any]:
    return {
        "type": "worker.hired" if left is None else "worker.left",
        "data": {
            "worker_id": worker_id,
            "name": f"社工{worker_id[-4:]}",
            "community_code": COMMUNITY,
            "status": "active" if left is None else "left",
            "hire_date": hire,
            "left_date": left,
            "education": "bachelor",
            "certificate_level": None,
            "certificate_date": None,
            "version": version,
        }
        | data,
    }


@dataclass
class Compensation:
    service: InProcessService
    mint: Mint

    @property
    def client(self) -> httpx.AsyncClient:
        return self.service.client

    def as_(self, *grants: tuple[str, str], worker_id: str | None = None) -> dict[str, str]:
        return bearer(self.mint(*grants, worker_id=worker_id))

    @property
    def county(self) -> dict[str, str]:
        return self.as_(("county_admin", "330302"))

    @property
    def township(self) -> dict[str, str]:
        return self.as_(("township_officer", TOWNSHIP))

    async def feed(self, *events: dict[str, Any]) -> None:
        handlers = {
            "worker.hired": apply_worker,
            "worker.left": apply_worker,
            "worker.updated": apply_worker,
            "post.assigned": apply_post,
            "assessment.finalized": apply_grade,
            "cycle.closed": apply_cycle_closed,
        }
        async with self.service.app.state.sessionmaker() as session:
            for event in events:
                await handlers[event["type"]](session, event)
            await session.commit()

    async def worker(self, post: str = "staff", grade: int = 3, start: str = "2025-01-05", **kwargs: Any) -> str:
        worker_id = str(uuid.uuid4())
        await self.feed(
            worker_event(worker_id, hire=start, **kwargs),
            {
                "type": "post.assigned",
                "data": {"worker_id": worker_id, "post": post, "grade": grade, "start_date": start},
            },
        )
        return worker_id

    async def scale(self, year: int = 2026) -> None:
        cells = [{"post": "staff", "grade": g, "annual_amount": str(78000 + 3000 * g)} for g in range(1, 13)]
        cells += [{"post": "deputy", "grade": g, "annual_amount": str(90000 + 3000 * g)} for g in range(4, 16)]
        cells += [{"post": "chief", "grade": g, "annual_amount": str(100000 + 2000 * g)} for g in range(7, 19)]
        response = await self.client.put(f"/v1/pay-scales/330302/{year}", headers=self.county, json={"cells": cells})
        assert response.status_code == 200, response.text

    async def run(self, month: str, region: str = TOWNSHIP) -> dict[str, Any]:
        created = await self.client.post(
            "/v1/payroll-runs", headers=self.township, json={"region_code": region, "month": month}
        )
        assert created.status_code == 201, created.text
        calculated = await self.client.post(f"/v1/payroll-runs/{created.json()['id']}/calculate", headers=self.township)
        assert calculated.status_code == 200, calculated.text
        body: dict[str, Any] = calculated.json()
        return body

    async def payslip(self, run_id: str, worker_id: str) -> dict[str, Any]:
        slips = (
            await self.client.get(f"/v1/payroll-runs/{run_id}/payslips", headers=self.township, params={"limit": 500})
        ).json()
        (mine,) = [s for s in slips if s["worker_id"] == worker_id]
        payslip: dict[str, Any] = mine
        return payslip


def lines(payslip: dict[str, Any]) -> dict[str, str]:
    return {line["kind"]: line["amount"] for line in payslip["lines"]}


@pytest.fixture
async def compensation(service_app: ServiceFactory, mint: Mint) -> Compensation:
    c = Compensation(await service_app("compensation"), mint)
    await c.scale()
    return c
