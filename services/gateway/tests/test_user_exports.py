"""The gateway's lists export like the services' (shared/exports.py): the same scope as the JSON list."""

from __future__ import annotations

import json

from conftest import InProcessService
from services.gateway.tests.conftest import AccountFactory


async def test_the_gateways_user_list_exports_scoped_like_the_json(
    gateway: InProcessService, account: AccountFactory
) -> None:
    admin = await account(("county_admin", "330302"))
    await account(("community_secretary", "330302001001"))
    await account(("community_secretary", "330304001001"))  # another county: not the admin's to see
    expected = (await gateway.client.get("/api/v1/identity/users", headers=admin.headers)).json()["items"]
    exported = await gateway.client.get("/api/v1/identity/users", headers=admin.headers, params={"format": "ndjson"})
    assert exported.status_code == 200
    assert [json.loads(line) for line in exported.text.splitlines()] == expected
    assert all(g["region"].startswith("330302") for u in expected for g in u["grants"])
