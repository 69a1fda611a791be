"""Work cases (E6) and resident visits (E7): offline-first uploads from the mobile app, must-visit
households, and the monthly visit report (50 % of working time visiting; must-visits within the
county's period)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from services.evaluation import duty_reports, visits, work_cases
from services.evaluation.schemas import (
    CaseIn,
    CaseOut,
    CaseReviewIn,
    ComplianceReport,
    MustVisitIn,
    MustVisitOut,
    VisitBatchIn,
    VisitBatchOut,
    VisitReport,
)
from services.evaluation.state import evaluation_state
from shared.auth import Principal, Role, require, require_for_record
from shared.db import SessionDep
from shared.dependencies import RegionInScope, Writer
from shared.inputs import MonthQuery, month_query
from shared.problems import problem_responses
from shared.scoping import READ_ROLES, WRITE_ROLES

router = APIRouter(prefix="/v1", tags=["residents"], responses=problem_responses(401, 403, 404))
# Records from the app: a worker's own, or a region's by its writers.
WriterOrWorker = Annotated[Principal, require(*WRITE_ROLES, Role.worker)]
# Must-visit households: a region's writers and community secretaries (readers get 403 in their region).
MustVisitWriter = Annotated[Principal, require_for_record(*WRITE_ROLES, Role.community_secretary, readers=READ_ROLES)]
HOUR = Decimal(3600)


@router.post(
    "/work-cases",
    summary="提交工作案例 submit the year's case or experience summary (E6); a returned one may be submitted again",
    status_code=201,
    responses=problem_responses(409),
)
async def submit_case(body: CaseIn, principal: WriterOrWorker, session: SessionDep) -> CaseOut:
    return await work_cases.submit(session, principal, body)


@router.post(
    "/work-cases/{case_id}/review",
    summary="审核工作案例 approve, or return with comments (E6)",
    responses=problem_responses(409),
)
async def review_case(case_id: uuid.UUID, body: CaseReviewIn, principal: Writer, session: SessionDep) -> CaseOut:
    return await work_cases.review(session, principal, case_id, body)


@router.post(
    "/visits:batch",
    summary="上传走访记录 a batch of resident visits from the app (E7): a result per visit, the good ones stored",
    description="Each visit is stored, recognised as a duplicate of its app-made id, or refused with its reasons "
    "(field, Chinese and English, rule E7: the end after the start, nothing in the future beyond the clock skew); "
    "a reused id with other content is a conflict. The answer is 200 whatever the outcomes.",
)
async def upload_visits(
    body: VisitBatchIn, request: Request, principal: WriterOrWorker, session: SessionDep
) -> VisitBatchOut:
    skew = timedelta(seconds=evaluation_state(request).settings.visit_clock_skew_seconds)
    return await visits.upload_visits(session, principal, body.visits, datetime.now(UTC), skew)


@router.post(
    "/must-visit-households",
    summary="登记必访户 a household in one of the six must-visit categories since a date (E7)",
    status_code=201,
)
async def register_must_visit(body: MustVisitIn, principal: MustVisitWriter, session: SessionDep) -> MustVisitOut:
    return await visits.register_must_visit(session, principal, body)


@router.delete(
    "/must-visit-households/{household_id}",
    summary="移除必访户 the household is no longer a must-visit one (E7); the apps delete it at their next sync",
    status_code=204,
)
async def remove_must_visit(
    household_id: Annotated[uuid.UUID, Path(description="必访户编号 must-visit household id")],
    principal: MustVisitWriter,
    session: SessionDep,
) -> Response:
    await visits.remove_must_visit(session, principal, household_id)
    return Response(status_code=204)


@router.get(
    "/reports/visits",
    summary="走访报告 visit hours against working hours per worker (E7: 50 %), must-visit households overdue",
)
async def visit_report(session: SessionDep, region: RegionInScope, month: MonthQuery) -> VisitReport:
    return await duty_reports.visit_report(session, region, month)


@router.get(
    "/reports/compliance",
    summary="社工履职合规 per worker: training hours (E5), the year's case (E6), visit share (E7); rolled up",
)
async def compliance_report(
    session: SessionDep, region: RegionInScope, month: Annotated[str, month_query("月份 YYYY-MM (its year for E5, E6)")]
) -> ComplianceReport:
    """Each worker's findings, and their counts per community, township and county (E5–E7)."""
    return await duty_reports.compliance_report(session, region, month)
