"""考核 Assessment: the region's cycles to choose from (``GET /v1/cycles``), a township cycle's grade
distribution beside the county scheme's 优秀 cap (E3), with appeals (E4); training-hour shortfalls (E5);
the renewal worklist — who must not be renewed and why (H7 no certificate three years after hire, H8 two
不合格 years). Each from the service that decides it. A township or county officer opens a township's
cycle of a year here and closes it once scored (the scores come by the import page's 考核评分 template):
closing grades every worker (E2, E3, the 优秀 cap) or is refused, the refusal with each worker's missing
scores or small panels shown beside the button."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.gateway.console.filters import Region, Year
from services.gateway.console.forms import Refusal, TownshipField, YearField, shown, submitted
from services.gateway.console.render import page, redirect
from services.gateway.console.session import ConsoleUser, CsrfField, User
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
    return await _assessment_page(request, user, api, region, year, cycle)


async def _assessment_page(
    request: Request,
    user: ConsoleUser,
    api: ConsoleApi,
    region: str,
    year: int,
    cycle: uuid.UUID | None,
    refusal: Refusal | None = None,
) -> HTMLResponse:
    """The page; after a form that changed nothing, with the refusal beside it."""
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
        **shown(refusal),
        region=region,
        year=year,
        cycle_id=str(cycle) if cycle else "",
        sections=sections,
        errors=errors,
        shortfalls=shortfalls,
        barred=barred,
    )


@router.post("/console/assessment/cycles")
async def open_cycle(
    request: Request,
    user: User,
    api: Api,
    township: TownshipField,
    year: YearField,
    csrf: CsrfField = "",
) -> Response:
    """Open the township's assessment of the year under its county's scheme (E1): the cycle's page, or this page
    again with the refusal (no scheme, already open)."""
    body = {"township_code": township, "year": year}
    opened = await submitted(request, csrf, lambda: api.post("evaluation", "/cycles", body))
    if isinstance(opened, Refusal):
        return await _assessment_page(request, user, api, township, year, None, opened)
    return redirect(request, f"/console/assessment?region={township}&year={year}&cycle={opened['id']}", user)


@router.post("/console/assessment/cycles/{cycle_id}/close")
async def close_cycle(request: Request, user: User, api: Api, cycle_id: uuid.UUID, csrf: CsrfField = "") -> Response:
    """Close a scored cycle: every worker graded (E2, E3 and the county's 优秀 cap), each grade published; or the
    cycle's page with the refusal naming each worker's missing scores or small panels (E2)."""
    cycle = await api.get("evaluation", f"/cycles/{cycle_id}")
    township, year = cycle["township_code"], cycle["year"]
    closed = await submitted(request, csrf, lambda: api.post("evaluation", f"/cycles/{cycle_id}/close"))
    if isinstance(closed, Refusal):
        return await _assessment_page(request, user, api, township, year, cycle_id, closed)
    return redirect(request, f"/console/assessment?region={township}&year={year}&cycle={cycle_id}", user)
