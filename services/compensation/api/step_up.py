"""``POST /v1/step-ups``: the C7 grade step-up of a region from 1 January — who moves up, with the
assessment years that allowed it; with ``apply`` the new grades are recorded as orders and sent to the
roster after the commit, retried until it confirms them (``services.compensation.step_ups``; the roster
publishes them back through its feed). ``GET /v1/step-up-orders`` shows where each order is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.compensation import step_up_cases
from services.compensation.schemas import StepUpIn, StepUpOrderOut, StepUpRow
from services.compensation.state import compensation_state
from shared.db import SessionDep
from shared.dependencies import Admin, Reader
from shared.inputs import year_query
from shared.list_answers import list_route
from shared.problems import problem_responses
from shared.regions import RegionCode
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, require_write, sees_region

router = APIRouter(prefix="/v1", tags=["step-up"], responses=problem_responses(401, 403, 404))


@router.post(
    "/step-ups",
    summary="晋档 grade step-up of a region (C7): preview, or apply through the roster",
    responses=problem_responses(503),
)
async def step_up(body: StepUpIn, principal: Admin, session: SessionDep, request: Request) -> list[StepUpRow]:
    require_write(principal, body.region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    if not body.apply:
        return await step_up_cases.preview(session, body.region_code, body.year)
    return await step_up_cases.apply(
        session, compensation_state(request), body.region_code, body.year, principal.subject
    )


@list_route(
    router,
    "/step-up-orders",
    StepUpOrderOut,
    "step-up-orders",
    summary="晋档指令 step-up orders of a region and year (C7) and whether the roster confirmed them",
    problems=(401, 403),
)
async def list_orders(
    principal: Reader,
    session: SessionDep,
    region_code: Annotated[RegionCode, Query(description="区划 orders of workers in this region")],
    year: Annotated[int, year_query("晋档年度 step-up year")],
) -> list[StepUpOrderOut]:
    return await step_up_cases.orders_of(session, region_code, year) if sees_region(principal, region_code) else []
