"""``GET /v1/reports/staffing``: staffing compliance of a region, each finding naming its rule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.roster.access import READ_ROLES, sees_region
from services.roster.compliance import staffing_compliance
from services.roster.domain.staffing import Finding
from services.roster.regions import NO_SUCH_REGION
from services.roster.schemas import CommunityKind, CommunityReport, FindingOut, QuotaUse, StaffingReport
from shared.auth import Principal, require
from shared.db import SessionDep
from shared.i18n import negotiate
from shared.problems import NotFound, problem_responses

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/staffing",
    summary="配备合规报告 staffing compliance of a region (S1–S8, P2, P3)",
    description=(
        "Required vs actual per community (S1–S4), quota use per county (S5), residence (S6), generalists "
        "(S7), grid duties (S8), posts (P2, P3); each finding names its rule."
    ),
    response_model=StaffingReport,
    responses=problem_responses(401, 403, 404),
)
async def staffing_report(
    request: Request,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[str, Query(pattern=r"^(\d{6}|\d{12})$", description="区划 community, township, county or city")],
    day: Annotated[date | None, Query(alias="date", description="报告日期 default today")] = None,
) -> StaffingReport:
    if not sees_region(principal, region):
        raise NotFound(NO_SUCH_REGION, code=region)
    on = day or datetime.now(UTC).date()
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
