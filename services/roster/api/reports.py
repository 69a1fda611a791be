"""``GET /v1/reports/staffing``: staffing compliance of a region, each finding naming its rule."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.roster import career_reports
from services.roster.compliance import staffing_report_json
from services.roster.schemas import CareerRow, RenewalRow, StaffingReport
from shared.business_time import business_today
from shared.db import ReadSessionDep, SessionDep
from shared.dependencies import RegionInScope, region_in_scope
from shared.i18n import negotiate
from shared.inputs import YearQuery
from shared.list_answers import list_route
from shared.problems import problem_responses
from shared.regions import RegionCode

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(401, 403, 404))


@router.get(
    "/staffing",
    summary="配备合规报告 staffing compliance of a region (S1–S8, P2, P3)",
    description=(
        "Required vs actual per community (S1–S4), quota use per county (S5), residence (S6), generalists "
        "(S7), grid duties (S8), posts (P2, P3); each finding names its rule. Read-only: it runs on the read "
        "replica when SHEGONG_ROSTER_DATABASE_READ_URL is set (deploy/k8s: CloudNativePG's -ro service)."
    ),
    response_model=StaffingReport,
)
async def staffing_report(
    request: Request,
    session: ReadSessionDep,
    region: Annotated[str, region_in_scope("region", RegionCode, "区划 community, township, county or city")],
    day: Annotated[date | None, Query(alias="date", description="报告日期 default today")] = None,
) -> Response:
    english = negotiate(request.headers.get("accept-language")) == "en"
    body = await staffing_report_json(session, region, day or business_today(), english=english)
    return Response(body, media_type="application/json")  # StaffingReport's JSON (issue #16: no model per row)


@list_route(
    router,
    "/renewals",
    RenewalRow,
    "renewals",
    summary="续签工作清单 contracts ending in a year: who is due, who must not be renewed and why (H7, H8)",
)
async def renewal_worklist(
    request: Request, session: SessionDep, region: RegionInScope, year: YearQuery
) -> list[RenewalRow]:
    english = negotiate(request.headers.get("accept-language")) == "en"
    return await career_reports.renewal_worklist(session, region, year, english=english)


@list_route(
    router,
    "/career-eligibility",
    CareerRow,
    "career-eligibility",
    summary="职业发展资格 chiefs with enough consecutive years for career-staff recruitment (K1 温州 6, K2 台州 5)",
)
async def career_eligibility(
    session: SessionDep, region: RegionInScope, day: Annotated[date | None, Query(alias="date")] = None
) -> list[CareerRow]:
    return await career_reports.career_eligibility(session, region, day or business_today())
