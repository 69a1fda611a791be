"""A province's branch of the region tree for cross-service tests: province → city → county → township →
one urban community, all under the province's two-digit prefix (each test takes a province no other uses)."""

from __future__ import annotations

from conftest import InProcessService


def branch(province: str) -> dict[str, str]:
    p = province[:2]
    return {
        "province": f"{p}0000",
        "city": f"{p}0100",
        "county": f"{p}0102",
        "township": f"{p}0102001000",
        "community": f"{p}0102001001",
    }


async def region_tree(roster: InProcessService, headers: dict[str, str], province: str) -> dict[str, str]:
    """Create the branch through the roster's API; its codes by level."""
    codes = branch(province)
    parents = {"province": None, "city": "province", "county": "city", "township": "county", "community": "township"}
    for level, parent in parents.items():
        body: dict[str, object] = {
            "code": codes[level],
            "name": codes[level],
            "parent_code": codes[parent] if parent else None,
        }
        if level == "community":
            body |= {"kind": "urban", "households": 1800}
        made = await roster.client.post("/v1/regions", headers=headers, json=body)
        assert made.status_code == 201, made.text
    return codes
