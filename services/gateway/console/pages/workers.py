"""社工 Workers: search a region's workers (roster's list, its ``name`` filter matching names that start with
the text — a surname or a full name — over the whole region; or the ID-number lookup), and one worker's
page: posts, grade history, contracts, assessments and payslips, each from the service that owns it.
ID numbers come masked unless the user holds the personal-data right (the roster decides)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway.console.filters import Region
from services.gateway.console.render import page
from services.gateway.console.session import User
from services.gateway.console.upstream import Api, ApiError

router = APIRouter()
SEARCH_PAGE = 500  # the roster's largest page


@router.get("/console/workers")
async def workers(
    request: Request,
    user: User,
    api: Api,
    region: Region,
    name: Annotated[str | None, Query(max_length=50)] = None,
    id_number: Annotated[str | None, Query(max_length=18)] = None,
    post: Annotated[str | None, Query(max_length=20)] = None,
    grade: Annotated[str | None, Query(max_length=2)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    query = {"region": region, "name": name, "id_number": id_number, "post": post, "grade": grade, "status": status}
    error: ApiError | None = None
    found: list[dict[str, Any]] = []
    try:
        if id_number:
            found = [await api.post("roster", "/workers/lookup", {"id_number": id_number})]
        else:
            listing = await api.get(
                "roster",
                "/workers",
                region=region,
                name=name or None,
                post=post,
                grade=grade,
                status=status,
                limit=SEARCH_PAGE,
            )
            found = listing["items"]
    except ApiError as exc:
        error = exc
    template = "workers_results.html" if request.headers.get("hx-request") else "workers.html"
    return page(request, template, user, workers=found, query=query, error=error)


@router.get("/console/workers/{worker_id}")
async def worker(request: Request, user: User, api: Api, worker_id: uuid.UUID) -> HTMLResponse:
    sections: dict[str, Any] = {}
    errors: dict[str, ApiError] = {}
    calls = {
        "worker": ("roster", f"/workers/{worker_id}"),
        "posts": ("roster", f"/workers/{worker_id}/posts"),
        "contracts": ("roster", f"/workers/{worker_id}/contracts"),
        "assessments": ("evaluation", f"/workers/{worker_id}/assessments"),
        "payslips": ("compensation", f"/workers/{worker_id}/payslips"),
    }
    for key, (service, path) in calls.items():
        try:
            sections[key] = await api.get(service, path)
        except ApiError as exc:
            if key == "worker":  # not found or not the user's to see: the error page, nothing else is asked
                raise
            errors[key] = exc
    return page(request, "worker.html", user, sections=sections, errors=errors)
