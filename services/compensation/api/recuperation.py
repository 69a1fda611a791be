"""Recuperation claims (疗休养, C10): paid up to the caps — 400 yuan a day, 5 days, 2,000 yuan per person a
year — with the amount asked and the amount allowed side by side; listed per worker and per county with
the year's amount used and left."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.compensation import recuperation
from services.compensation.schemas import RecuperationIn, RecuperationOut
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker as Reader
from shared.dependencies import Writer
from shared.inputs import year_query
from shared.list_answers import paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses
from shared.regions import CountyCode
from shared.sync import UpdatedSince

router = APIRouter(prefix="/v1", tags=["annual"], responses=problem_responses(401, 403, 404))
ClaimId = Annotated[uuid.UUID, Path(description="疗休养记录编号 claim id")]


@router.post(
    "/recuperation-claims",
    summary="疗休养 record recuperation leave, allowed up to its caps: 400 a day, 5 days, 2,000 a year (C10)",
    description=(
        "疗休养 (C10): a claim dearer than 400 yuan a day is allowed at 400 a day; one larger than what is left "
        "of the year's 2,000 is allowed up to what is left. The amount asked and the amount allowed are kept "
        "side by side with the reasons (`reductions`, zh and en). Refused only what cannot be paid at all: "
        "more than 5 days (422) or nothing left of the year's allowance (409), both naming C10 and the field."
    ),
    status_code=201,
    responses=problem_responses(409),
)
async def claim_recuperation(
    body: RecuperationIn, principal: Writer, session: SessionDep, response: Response
) -> RecuperationOut:
    claim = await recuperation.claim(session, principal, body)
    response.headers["Location"] = f"/v1/recuperation-claims/{claim.id}"
    return claim


@router.get(
    "/recuperation-claims/{claim_id}",
    summary="疗休养记录 one claim: asked, allowed, why, and the worker's year used and left (C10)",
)
async def get_recuperation(claim_id: ClaimId, principal: Reader, session: SessionDep) -> RecuperationOut:
    return await recuperation.visible_claim(session, principal, claim_id)


@paged_route(
    router,
    "/recuperation-claims",
    RecuperationOut,
    "recuperation-claims",
    summary="疗休养台账 a year's claims of one worker or of a county, each with the worker's year used and left (C10)",
    problems=(400, 401, 403, 404),
)
async def list_recuperation(
    at: PageAt,
    principal: Reader,
    year: Annotated[int, year_query("年度 allowance year")],
    worker_id: Annotated[uuid.UUID | None, Query(description="社工编号 one worker's claims")] = None,
    county_code: Annotated[CountyCode | None, Query(description="县级区划代码 a county's claims")] = None,
    updated_since: UpdatedSince = None,
) -> Page[RecuperationOut]:
    return await recuperation.claims_page(
        at, principal, year=year, worker_id=worker_id, county_code=county_code, updated_since=updated_since
    )
