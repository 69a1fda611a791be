"""招聘 Recruitment: a county's recruitment rounds (H1: channel, announcement, hires), each round's reserve
capacity and use (H2: at most 1:1 of hires), and the county's live reserve pool with its expiry. The
roster decides both (``GET /v1/recruitment-rounds``, ``GET /v1/reserve-pool``) and refuses other counties."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.console.render import default_region, page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError

router = APIRouter()
COUNTY = r"^([0-9]{6})?$"


@router.get("/console/recruitment")
async def recruitment(
    request: Request, user: User, api: Api, county: Annotated[str | None, Query(pattern=COUNTY)] = None
) -> HTMLResponse:
    county = county or default_region(user)[:6]
    rounds: list[dict[str, Any]] = []
    pool: list[dict[str, Any]] = []
    error: ApiError | None = None
    if county:
        try:
            rounds = await api.get("roster", "/recruitment-rounds", county=county)
            pool = await api.get("roster", "/reserve-pool", county=county)
        except ApiError as exc:
            error = exc
    live = {entry["round_id"] for entry in pool}
    return page(
        request,
        "recruitment.html",
        user,
        status_code=error.status if error and error.status in (403, 404) else 200,
        county=county,
        rounds=rounds,
        pool=pool,
        live=live,
        expires=pool[0]["expires_on"] if pool else None,
        error=error,
    )
