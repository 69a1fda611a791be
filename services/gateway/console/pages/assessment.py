"""考核 Assessment: the region's cycles to choose from (``GET /v1/cycles``), a township cycle's grade
distribution beside the county scheme's 优秀 cap (E3), with appeals (E4); training-hour shortfalls (E5);
the renewal worklist — who must not be renewed and why (H7 no certificate three years after hire, H8 two
不合格 years). Each from the service that decides it."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.gateway.console.filters import Region, Year
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError, ConsoleApi

router = APIRouter()
GRADES = ("excellent", "competent", "basically_competent", "incompetent")


async def _cycle(api: ConsoleApi, cycle_id: uuid.UUID) -> dict[str, Any]:
    cycle: dict[str, Any] = await api.get("evaluation", f"/cycles/{cycle_id}")
    results = await api.get("evaluation", f"/cycles/{cycle_id}/results") if cycle["status"] == "closed" else []
    scheme = await api.get("evaluation", f"/schemes/{cycle['township_code'][:6]}/{cycle['year']}")
    counts = Counter(r["grade"] for r in results)
    return {
        "cycle": cycle,
        "results": results,
        "distribution": [(g, counts.get(g, 0)) for g in GRADES],
        "excellent_share": (counts.get("excellent", 0) / len(results)) if results else 0,
        "cap_share": scheme.get("excellent_cap_share"),
        "capped": sum(1 for r in results if r.get("capped")),
        "appeals": [r for r in results if r.get("appeal_reason")],
    }


@router.get("/console/assessment")
async def assessment(
    request: Request,
    user: User,
    api: Api,
    region: Region,
    year: Year,
    cycle: uuid.UUID | None = None,
) -> HTMLResponse:
    sections: dict[str, Any] = {}
    errors: dict[str, ApiError] = {}
    try:  # the region's cycles, newest year first, to choose one from
        sections["cycles"] = (await api.get("evaluation", "/cycles", region=region, limit=200))["items"]
    except ApiError as exc:
        errors["cycles"] = exc
    calls = {
        "training": ("evaluation", "/reports/training"),
        "renewals": ("roster", "/reports/renewals"),
    }
    for key, (service, path) in calls.items():
        try:
            sections[key] = await api.get(service, path, region=region, year=year)
        except ApiError as exc:
            errors[key] = exc
    if cycle is not None:
        try:
            sections["cycle"] = await _cycle(api, cycle)
        except ApiError as exc:
            errors["cycle"] = exc
    shortfalls = [row for row in sections.get("training", []) if row.get("rule")]
    barred = [row for row in sections.get("renewals", []) if not row.get("renewable")]
    return page(
        request,
        "assessment.html",
        user,
        region=region,
        year=year,
        cycle_id=str(cycle) if cycle else "",
        sections=sections,
        errors=errors,
        shortfalls=shortfalls,
        barred=barred,
    )
