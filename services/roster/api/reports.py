"""``GET /v1/reports/staffing``: staffing compliance of a region, each finding naming its rule."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from starlette.responses import StreamingResponse

from services.roster.compliance import staffing_compliance
from services.roster.domain.careers import consecutive_chief_years, renewal_bars
from services.roster.domain.staffing import Finding
from services.roster.lifecycle import employed_on
from services.roster.models import AssessmentResult, Contract, PostAssignment, Worker
from services.roster.regions import policy_overrides, resolve_policy
from services.roster.schemas import (
    CareerRow,
    CommunityKind,
    CommunityReport,
    FindingOut,
    QuotaUse,
    RenewalRow,
    StaffingReport,
)
from shared.auth import Principal, require
from shared.db import ReadSessionDep, SessionDep
from shared.exports import EXPORT_RESPONSES, ExportDep, exported
from shared.i18n import negotiate
from shared.problems import NotFound, problem_responses
from shared.regions import RegionCode, scope_prefix
from shared.scoping import NO_SUCH_REGION, READ_ROLES, sees_region

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
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: ReadSessionDep,
    region: Annotated[RegionCode, Query(description="区划 community, township, county or city")],
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


@router.get(
    "/renewals",
    summary="续签工作清单 contracts ending in a year: who is due, who must not be renewed and why (H7, H8)",
    response_model=list[RenewalRow],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def renewal_worklist(
    export: ExportDep,
    request: Request,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> list[RenewalRow] | StreamingResponse:
    if not sees_region(principal, region):
        raise NotFound(NO_SUCH_REGION, code=region)
    english = negotiate(request.headers.get("accept-language")) == "en"
    latest = (
        select(Contract.worker_id, func.max(Contract.end_date).label("end_date"))
        .group_by(Contract.worker_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Worker, latest.c.end_date)
            .join(latest, latest.c.worker_id == Worker.id)
            .where(
                Worker.community_path.startswith(scope_prefix(region)),
                employed_on(latest.c.end_date),  # still employed on the renewal date
                func.extract("year", latest.c.end_date) == year,
            )
            .order_by(latest.c.end_date, Worker.name)
        )
    ).all()
    worker_ids = [w.id for w, _ in rows]
    grades: dict[object, dict[int, str]] = {}
    if worker_ids:
        for wid, y, grade in (
            await session.execute(
                select(AssessmentResult.worker_id, AssessmentResult.year, AssessmentResult.grade).where(
                    AssessmentResult.worker_id.in_(worker_ids)
                )
            )
        ).all():
            grades.setdefault(wid, {})[y] = grade
    overrides = await policy_overrides(session, year)
    out = []
    for worker, end in rows:
        bars = renewal_bars(
            hire_date=worker.hire_date,
            certificate_date=worker.certificate_date if worker.certificate_level else None,
            renewal_date=end,
            grades=grades.get(worker.id, {}),
            policy=resolve_policy(overrides, worker.community_code),
        )
        out.append(
            RenewalRow(
                worker_id=worker.id,
                name=worker.name,
                community_code=worker.community_code,
                contract_end=end,
                renewable=not bars,
                bars=[
                    FindingOut(
                        rule=b.rule,
                        region=worker.community_code,
                        message=b.en if english else b.zh,
                        expected=None,
                        actual=None,
                    )
                    for b in bars
                ],
            )
        )
    return await exported(request, export, out, RenewalRow, "renewals")


@router.get(
    "/career-eligibility",
    summary="职业发展资格 chiefs with enough consecutive years for career-staff recruitment (K1 温州 6, K2 台州 5)",
    response_model=list[CareerRow],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def career_eligibility(
    request: Request,
    export: ExportDep,
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    day: Annotated[date | None, Query(alias="date")] = None,
) -> list[CareerRow] | StreamingResponse:
    if not sees_region(principal, region):
        raise NotFound(NO_SUCH_REGION, code=region)
    on = day or datetime.now(UTC).date()
    rows = (
        await session.execute(
            select(Worker.id, Worker.name, Worker.community_code, PostAssignment.start_date, PostAssignment.end_date)
            .join(PostAssignment, PostAssignment.worker_id == Worker.id)
            .where(Worker.community_path.startswith(scope_prefix(region)), PostAssignment.post == "chief")
        )
    ).all()
    periods: dict[uuid.UUID, list[tuple[date, date | None]]] = {}
    names: dict[uuid.UUID, tuple[str, str]] = {}
    for wid, name, community, start, end in rows:
        periods.setdefault(wid, []).append((start, end))
        names[wid] = (name, community)
    overrides = await policy_overrides(session, on.year)
    out = []
    for wid, spans in periods.items():
        name, community = names[wid]
        policy = resolve_policy(overrides, community)
        years = consecutive_chief_years(spans, on)
        if years >= policy.career_chief_years:
            rule = "K2" if policy.career_chief_years == 5 else "K1"
            out.append(
                CareerRow(
                    worker_id=wid,
                    name=name,
                    community_code=community,
                    years_as_chief=round(years, 2),
                    required_years=policy.career_chief_years,
                    rule=rule,
                )
            )
    return await exported(
        request, export, sorted(out, key=lambda r: -r.years_as_chief), CareerRow, "career-eligibility"
    )
