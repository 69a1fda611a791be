"""Roster test helpers: a region tree and workers made through the API itself, tokens per role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from stdnum.cn import ric

from conftest import InProcessService, Mint, ServiceFactory, bearer

PROVINCE, CITY, COUNTY, NEXT_COUNTY = "330000", "330300", "330302", "330304"  # 浙江 温州 鹿城 瓯海
TOWNSHIP = "330302001000"
COMMUNITY_A, COMMUNITY_B, COMMUNITY_C = "330302001001", "330302001002", "330302001003"
NEXT_COMMUNITY = "330304001001"
TAIZHOU_COUNTY, TAIZHOU_COMMUNITY = "331002", "331002001001"


def id_number(serial: int, birth: str = "19900101", region: str = "330302", male: bool = True) -> str:
    """A valid 18-digit resident ID (check digit by python-stdnum)."""
    assert 0 <= serial < 100, "two digits of sequence, the third is the sex"
    body = region + birth + f"{serial:02d}" + ("1" if male else "2")
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Roster:
    service: InProcessService
    mint: Mint

    @property
    def client(self) -> httpx.AsyncClient:
        return self.service.client

    def as_(self, *grants: tuple[str, str], pd: tuple[str, ...] = (), worker_id: str | None = None) -> dict[str, str]:
        return bearer(self.mint(*grants, pd=pd, worker_id=worker_id))

    @property
    def province_admin(self) -> dict[str, str]:
        return self.as_(("province_admin", PROVINCE))

    @property
    def county_admin(self) -> dict[str, str]:
        return self.as_(("county_admin", COUNTY))

    async def region(self, code: str, name: str, parent: str | None, **fields: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/regions",
            headers=self.province_admin,
            json={"code": code, "name": name, "parent_code": parent, **fields},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def hire(self, serial: int, community: str = COMMUNITY_A, **fields: Any) -> dict[str, Any]:
        body = {
            "id_number": id_number(serial),
            "name": f"社工{serial}",
            "community_code": community,
            "hire_date": "2026-01-05",
        }
        response = await self.client.post("/v1/workers", headers=self.province_admin, json=body | fields)
        assert response.status_code == 201, response.text
        worker: dict[str, Any] = response.json()
        return worker

    async def assign(
        self, worker_id: str, post: str, grade: int, start: str = "2026-01-05", **fields: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/workers/{worker_id}/posts",
            headers=self.province_admin,
            json={"post": post, "grade": grade, "start_date": start, **fields},
        )


RosterFactory = Callable[[], Awaitable[Roster]]


@pytest.fixture
async def roster(service_app: ServiceFactory, mint: Mint) -> Roster:
    """The roster service with a small tree: 鹿城区 (three communities) and 瓯海区 (one), quotas 2019–2026."""
    r = Roster(await service_app("roster"), mint)
    await r.region(PROVINCE, "浙江省", None)
    await r.region(CITY, "温州市", PROVINCE)
    await r.region(COUNTY, "鹿城区", CITY)
    await r.region(NEXT_COUNTY, "瓯海区", CITY)
    await r.region(TOWNSHIP, "五马街道", COUNTY)
    await r.region("330304001000", "景山街道", NEXT_COUNTY)
    await r.region(COMMUNITY_A, "社区A", TOWNSHIP, kind="urban", households=2000)
    await r.region(COMMUNITY_B, "社区B", TOWNSHIP, kind="urban", households=2500)
    await r.region(COMMUNITY_C, "社区C", TOWNSHIP, kind="old_town", households=3099)
    await r.region(NEXT_COMMUNITY, "社区N", "330304001000", kind="urban", households=1200)
    for county in (COUNTY, NEXT_COUNTY):
        for year in range(2019, 2027):
            quota = await r.client.put(f"/v1/quotas/{county}/{year}", headers=r.province_admin, json={"headcount": 30})
            assert quota.status_code == 200, quota.text
    return r
