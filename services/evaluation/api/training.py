"""Training records (E5): a course's attendance list in one request; hours per worker and year against
the county's requirement (40 class hours by default): 39 is a finding, 40 is not."""

from __future__ import annotations

from fastapi import APIRouter

from services.evaluation import training
from services.evaluation.schemas import TrainingIn, TrainingRow
from shared.db import SessionDep
from shared.dependencies import RegionInScope, Writer
from shared.inputs import YearQuery
from shared.list_answers import list_route
from shared.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["training"], responses=problem_responses(401, 403, 404))


@router.post(
    "/training-records",
    summary="录入培训 record a course and its attendance list (E5); repeating the same list changes nothing",
    status_code=201,
)
async def record_training(body: TrainingIn, principal: Writer, session: SessionDep) -> dict[str, int]:
    added = await training.record_training(session, principal, body)
    return {"recorded": added}


@list_route(
    router,
    "/reports/training",
    TrainingRow,
    "training",
    summary="培训学时 hours per worker in a year against the requirement (E5), with the finding where short",
)
async def training_report(session: SessionDep, region: RegionInScope, year: YearQuery) -> list[TrainingRow]:
    return await training.training_rows(session, region, year)
