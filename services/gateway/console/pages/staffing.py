"""人员配备 Staffing: the roster's staffing compliance report (S1–S8, P2, P3) of a region — each
community's required workers beside the actual count, the county quota (S5) used and left — with the
region's children to drill down region → township → community → its workers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.console.filters import Region
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError

router = APIRouter()


@router.get("/console/staffing")
async def staffing(
    request: Request,
    user: User,
    api: Api,
    region: Region,
    on: Annotated[date | None, Query(alias="date")] = None,
) -> HTMLResponse:
    report: dict[str, Any] | None = None
    place: dict[str, Any] | None = None
    children: list[dict[str, Any]] = []
    ancestors: list[dict[str, Any]] = []
    error: ApiError | None = None
    try:
        place = await api.get("roster", f"/regions/{region}")
        ancestors = list(reversed(await api.get("roster", f"/regions/{region}/ancestors")))
        children = (await api.get("roster", f"/regions/{region}/children", limit=500))["items"]
        report = await api.get("roster", "/reports/staffing", region=region, date=on.isoformat() if on else None)
    except ApiError as exc:
        error = exc
    return page(
        request,
        "staffing.html",
        user,
        region=region,
        on=on,
        place=place,
        ancestors=ancestors,
        children=children,
        report=report,
        error=error,
    )
