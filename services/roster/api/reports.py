"""``GET /v1/reports/staffing``: staffing compliance of a region, each finding naming its rule."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from services.roster import career_reports
from services.roster.compliance import staffing_compliance
from services.roster.domain.staffing import Finding
from services.roster.schemas import (
    CareerRow,
    CommunityKind,
    CommunityReport,
    FindingOut,
    QuotaUse,
    RenewalRow,
    StaffingReport,
)
from shared.business_time import business_today
from shared.db import ReadSessionDep, SessionDep
from shared.dependencies import RegionInScope, region_in_scope
from shared.i18n import negotiate
from shared.list_answers import ListAnswer, list_route
from shared.problems import problem_responses
from shared.regions import RegionCode

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/staffing",
    summary="配备合规报告 staffing compliance of a region (S1–S8, P2, P3)",
    description=(
        "Required vs actual per community (S1–S4), quota use per county (S5), residence (S6), generalists "
        "(S7), grid duties (S8), posts (P2, P3); each finding names its rule. Read-only: it runs on the read "
        "replica when SHEGONG_ROSTER_DATABASE_READ_URL is set (deploy/k8s: CloudNativePG's -ro service)."
    ),
    response_model=StaffingReport,
    responses=problem_responses(401, 403, 404),
)
async def staffing_report(
    request: Request,
    session: ReadSessionDep,
    region: Annotated[str, region_in_scope("region", RegionCode, "区划 community, township, county or city")],
    day: Annotated[date | None, Query(alias="date", description="报告日期 default today")] = None,
) -> StaffingReport:
    on = day or business_today()
    result = await staffing_compliance(session, region, on)
    english = negotiate(request.headers.get("accept-language")) == "en"

    def finding_out(f: Finding) -> FindingOut:
        message = f.message_en if english else f.message_zh
        return FindingOut(rule=f.rule, region=f.community, message=message, expected=f.expected, actual=f.actual)

    communities = [
        CommunityReport(
            code=c.code,
            name=c.name,
            kind=CommunityKind(c.kind) if c.kind else None,
            households=c.households,
            required=c.required,
            actual=c.actual,
            findings=[finding_out(f) for f in c.findings],
        )
        for c in result.communities
    ]
    quotas = [QuotaUse(county_code=q.county, headcount=q.headcount, used=q.used, findings=[]) for q in result.quotas]
    for f in result.quota_findings:
        next(q for q in quotas if q.county_code == f.community).findings.append(finding_out(f))
    return StaffingReport(region=region, date=on, communities=communities, quotas=quotas, findings=result.total)


@list_route(
    router,
    "/renewals",
    RenewalRow,
    summary="续签工作清单 contracts ending in a year: who is due, who must not be renewed and why (H7, H8)",
)
async def renewal_worklist(
    answer: ListAnswer,
    request: Request,
    session: SessionDep,
    region: RegionInScope,
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> list[RenewalRow] | StreamingResponse:
    english = negotiate(request.headers.get("accept-language")) == "en"
    rows = await career_reports.renewal_worklist(session, region, year, english=english)
    return await answer(rows, RenewalRow, "renewals")


@list_route(
    router,
    "/career-eligibility",
    CareerRow,
    summary="职业发展资格 chiefs with enough consecutive years for career-staff recruitment (K1 温州 6, K2 台州 5)",
)
async def career_eligibility(
    answer: ListAnswer,
    session: SessionDep,
    region: RegionInScope,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> list[CareerRow] | StreamingResponse:
    rows = await career_reports.career_eligibility(session, region, day or business_today())
    return await answer(rows, CareerRow, "career-eligibility")
