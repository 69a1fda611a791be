"""Evaluation test helpers: workers put into the projection through the feed handler itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import InProcessService, Mint, ServiceFactory, bearer
from services.evaluation.projections import apply_worker

TOWNSHIP = "330302001000"
COMMUNITY_A, COMMUNITY_B = "330302001001", "330302001002"
NANHU_SCHEME = {
    "groups": [
        {"code": "township_cadres", "weight": "0.3"},
        {"code": "peers", "weight": "0.1"},
        {"code": "residents", "weight": "0.6", "min_panel": 50, "min_ordinary_share": "0.7"},
    ],
    "thresholds": {"excellent": "90", "competent": "70", "basically_competent": "60"},
    "excellent_cap_share": "0.2",
    "daily_weight": "0",
    "source": "南湖区社区工作者考核办法（示例）",
}


@dataclass
class Evaluation:
    service: InProcessService
    mint: Mint
    workers: list[str]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.service.client

    def as_(self, *grants: tuple[str, str], worker_id: str | None = None) -> dict[str, str]:
        return bearer(self.mint(*grants, worker_id=worker_id))

    @property
    def township(self) -> dict[str, str]:
        return self.as_(("township_officer", TOWNSHIP))

    @property
    def county(self) -> dict[str, str]:
        return self.as_(("county_admin", "330302"))

    async def open_cycle(self, year: int = 2026) -> str:
        scheme = await self.client.put(f"/v1/schemes/330302/{year}", headers=self.county, json=NANHU_SCHEME)
        assert scheme.status_code == 200, scheme.text
        cycle = await self.client.post(
            "/v1/cycles", headers=self.township, json={"township_code": TOWNSHIP, "year": year}
        )
        assert cycle.status_code == 201, cycle.text
        cycle_id: str = cycle.json()["id"]
        return cycle_id

    async def score(
        self, cycle_id: str, worker: str, township: str, peers: str, residents: str, panel: int = 60
    ) -> None:
        response = await self.client.post(
            f"/v1/cycles/{cycle_id}/scores",
            headers=self.township,
            json={
                "entries": [
                    {"worker_id": worker, "rater_group": "township_cadres", "score": township},
                    {"worker_id": worker, "rater_group": "peers", "score": peers},
                    {
                        "worker_id": worker,
                        "rater_group": "residents",
                        "score": residents,
                        "panel_size": panel,
                        "ordinary_share": "0.8",
                    },
                ]
            },
        )
        assert response.status_code == 200, response.text


def hired_event(worker_id: str, community: str, version: int = 1, **data: Any) -> dict[str, Any]:
    return {
        "type": "worker.hired",
        "data": {
            "worker_id": worker_id,
            "name": f"社工{worker_id[:4]}",
            "community_code": community,
            "status": "active",
            "hire_date": "2024-01-05",
            "left_date": None,
            "version": version,
        }
        | data,
    }


@pytest.fixture
async def evaluation(service_app: ServiceFactory, mint: Mint) -> Evaluation:
    service = await service_app("evaluation")
    workers = [str(uuid.UUID(int=n + 1)) for n in range(10)]
    async with service.app.state.sessionmaker() as session:
        for n, worker in enumerate(workers):
            await apply_worker(session, hired_event(worker, COMMUNITY_A if n % 2 == 0 else COMMUNITY_B))
        await session.commit()
    return Evaluation(service, mint, workers)
