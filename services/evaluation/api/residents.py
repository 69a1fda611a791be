"""Work cases (E6) and resident visits (E7): offline-first uploads from the mobile app, must-visit
households, and the monthly visit report (50 % of working time visiting; must-visits within the
county's period)."""

from __future__ import annotations

import calendar
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.models import (
    NOT_ON_ROLL,
    MustVisitHousehold,
    Scheme,
    Visit,
    WorkCase,
    WorkerProjection,
    events,
)
from services.evaluation.schemas import (
    CaseIn,
    CaseOut,
    CaseReviewIn,
    ComplianceReport,
    ComplianceRow,
    MustVisitIn,
    OpenMustVisit,
    VisitBatchIn,
    VisitReport,
    VisitResult,
    VisitRow,
)
from services.evaluation.training import training_rows
from shared.auth import Principal, Role, require, require_for_record
from shared.db import SessionDep
from shared.dependencies import Writer
from shared.events import record_event
from shared.i18n import Message
from shared.inputs import MONTH_PATTERN
from shared.problems import Conflict, Forbidden, NotFound, UnprocessableContent, problem_responses
from shared.regions import RegionCode, scope_prefix
from shared.scoping import READ_ROLES, WRITE_ROLES, own_worker_id, require_write, sees_region, sees_worker

router = APIRouter(prefix="/v1", tags=["residents"])
NO_SUCH_WORKER = Message("社工不存在", "No such worker")
HOUR = Decimal(3600)


async def acting_worker(session: AsyncSession, principal: Principal, worker_id: uuid.UUID | None) -> WorkerProjection:
    """A worker acts for themselves (the token says who); an officer names the worker, within its region."""
    if Role.worker in principal.roles and not principal.has_any(WRITE_ROLES):
        own = own_worker_id(principal)
        if own is None or (worker_id is not None and worker_id != own):
            raise Forbidden(Message("只能为本人录入", "A worker records only for themselves"))
        worker_id = own
    if worker_id is None:
        raise UnprocessableContent(Message("需要 worker_id", "worker_id is required"))
    worker = await session.get(WorkerProjection, worker_id)
    if worker is None or not sees_worker(principal, worker.worker_id, worker.community_code):
        raise NotFound(NO_SUCH_WORKER)
    if not (str(worker.worker_id) == principal.worker_id or sees_region(principal, worker.community_code, WRITE_ROLES)):
        raise Forbidden(Message("只读：无权修改", "Read-only: not allowed to change this"))
    return worker


def case_out(c: WorkCase) -> CaseOut:
    return CaseOut(id=c.id, worker_id=c.worker_id, year=c.year, title=c.title, status=c.status, comment=c.comment)


@router.post(
    "/work-cases",
    summary="提交工作案例 submit the year's case or experience summary (E6); a returned one may be submitted again",
    status_code=201,
    response_model=CaseOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def submit_case(
    body: CaseIn, principal: Annotated[Principal, require(*WRITE_ROLES, Role.worker)], session: SessionDep
) -> CaseOut:
    worker = await acting_worker(session, principal, body.worker_id)
    case = await session.scalar(
        select(WorkCase).where(WorkCase.worker_id == worker.worker_id, WorkCase.year == body.year).with_for_update()
    )
    if case is not None and case.status != "returned":
        raise Conflict(Message("{year} 年案例已提交", "The {year} case is already submitted"), year=body.year)
    if case is None:
        case = WorkCase(
            worker_id=worker.worker_id,
            year=body.year,
            title=body.title,
            content=body.content,
            status="submitted",
            submitted_by=principal.subject,
        )
        session.add(case)
    else:
        case.title, case.content, case.status, case.submitted_at = (
            body.title,
            body.content,
            "submitted",
            datetime.now(UTC),
        )
    await session.flush()
    await session.refresh(case)
    await record_event(
        session,
        events,
        "work_case.submitted",
        f"worker/{worker.worker_id}",
        {"worker_id": str(worker.worker_id), "year": body.year},
        region_code=worker.community_code,
    )
    return case_out(case)


@router.post(
    "/work-cases/{case_id}/review",
    summary="审核工作案例 approve, or return with comments (E6)",
    response_model=CaseOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def review_case(case_id: uuid.UUID, body: CaseReviewIn, principal: Writer, session: SessionDep) -> CaseOut:
    case = await session.get(WorkCase, case_id, with_for_update=True)
    worker = await session.get(WorkerProjection, case.worker_id) if case else None
    if case is None or worker is None or not sees_region(principal, worker.community_code):
        raise NotFound(Message("案例不存在", "No such case"))
    require_write(principal, worker.community_code, NO_SUCH_WORKER)
    if case.status != "submitted":
        raise Conflict(Message("案例状态为 {status}", "The case is {status}"), status=case.status)
    case.status, case.comment, case.reviewed_by, case.reviewed_at = (
        body.decision,
        body.comment,
        principal.subject,
        datetime.now(UTC),
    )
    await session.flush()
    return case_out(case)


def _same(visit: Visit, values: dict[str, Any]) -> bool:
    return all(getattr(visit, k) == v for k, v in values.items() if k not in ("recorded_by",))


@router.post(
    "/visits:batch",
    summary="上传走访记录 a batch of resident visits from the app (E7): idempotent by the app's own ids",
    response_model=list[VisitResult],
    responses=problem_responses(401, 403, 404),
)
async def upload_visits(
    body: VisitBatchIn, principal: Annotated[Principal, require(*WRITE_ROLES, Role.worker)], session: SessionDep
) -> list[VisitResult]:
    results = []
    for item in body.visits:
        worker = await acting_worker(session, principal, item.worker_id)
        if item.ended_at <= item.started_at:
            raise UnprocessableContent(
                Message("结束时间应晚于开始时间：{id}", "The end must come after the start: {id}"), id=str(item.id)
            )
        if not sees_region(principal, item.community_code) and item.community_code != worker.community_code:
            raise NotFound(Message("社区不存在：{code}", "No such community: {code}"), code=item.community_code)
        values = item.model_dump(exclude={"worker_id"}) | {
            "worker_id": worker.worker_id,
            "must_visit_category": item.must_visit_category.value if item.must_visit_category else None,
            "timely_type": item.timely_type.value if item.timely_type else None,
            "recorded_by": principal.subject,
        }
        inserted = await session.execute(insert(Visit).values(**values).on_conflict_do_nothing().returning(Visit.id))
        if inserted.first() is not None:
            results.append(VisitResult(id=item.id, outcome="created"))
            continue
        existing = await session.get(Visit, item.id)
        results.append(
            VisitResult(
                id=item.id, outcome="duplicate" if existing is not None and _same(existing, values) else "conflict"
            )
        )
    created = sum(1 for r in results if r.outcome == "created")
    if created:
        await record_event(session, events, "visits.recorded", f"visits/{principal.subject}", {"count": created})
    return results


@router.post(
    "/must-visit-households",
    summary="登记必访户 a household in one of the six must-visit categories since a date (E7)",
    status_code=201,
    response_model=dict[str, str],
    responses=problem_responses(401, 403, 404),
)
async def register_must_visit(
    body: MustVisitIn,
    principal: Annotated[Principal, require_for_record(*WRITE_ROLES, Role.community_secretary, readers=READ_ROLES)],
    session: SessionDep,
) -> dict[str, str]:
    require_write(
        principal,
        body.community_code,
        Message("社区不存在：{code}", "No such community: {code}"),
        frozenset({*WRITE_ROLES, Role.community_secretary}),
    )
    statement = insert(MustVisitHousehold).values(
        **body.model_dump() | {"category": body.category.value, "recorded_by": principal.subject}
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="must_visit_households_community_code_key", set_={"since": statement.excluded.since}
        )
    )
    return {"status": "registered"}


@router.get(
    "/reports/visits",
    summary="走访报告 visit hours against working hours per worker (E7: 50 %), must-visit households overdue",
    response_model=VisitReport,
    responses=problem_responses(401, 403, 404),
)
async def visit_report(
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="月份 YYYY-MM")],
) -> VisitReport:
    if not sees_region(principal, region):
        raise NotFound(Message("区划不存在：{code}", "No such region: {code}"), code=region)
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    start = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    prefix = scope_prefix(region)
    hours = (
        select(Visit.worker_id, func.sum(func.extract("epoch", Visit.ended_at - Visit.started_at)).label("seconds"))
        .where(Visit.started_at >= start, Visit.started_at < end)
        .group_by(Visit.worker_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(WorkerProjection, func.coalesce(hours.c.seconds, 0))
            .outerjoin(hours, hours.c.worker_id == WorkerProjection.worker_id)
            .where(WorkerProjection.community_path.startswith(prefix), WorkerProjection.status.not_in(NOT_ON_ROLL))
            .order_by(WorkerProjection.community_code, WorkerProjection.name)
        )
    ).all()
    schemes = {s.county_code: s for s in (await session.scalars(select(Scheme).where(Scheme.year == year))).all()}
    workers = []
    for worker, seconds in rows:
        scheme = schemes.get(worker.community_code[:6])
        working = scheme.monthly_working_hours if scheme else Decimal(174)
        required = scheme.visit_share_required if scheme else Decimal("0.5")
        visit_hours = (Decimal(str(seconds)) / HOUR).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        share = (visit_hours / working).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        workers.append(
            VisitRow(
                worker_id=worker.worker_id,
                name=worker.name,
                community_code=worker.community_code,
                visit_hours=visit_hours,
                working_hours=working,
                share=share,
                rule="E7" if share < required else None,
            )
        )
    open_visits = []
    households = (
        await session.scalars(select(MustVisitHousehold).where(MustVisitHousehold.community_code.startswith(prefix)))
    ).all()
    for h in households:
        days = schemes[h.community_code[:6]].must_visit_days if h.community_code[:6] in schemes else 30
        due = h.since + timedelta(days=days)
        if due > last:
            continue
        visited = await session.scalar(
            select(func.count())
            .select_from(Visit)
            .where(
                and_(
                    Visit.community_code == h.community_code,
                    Visit.building == h.building,
                    Visit.unit == h.unit,
                    Visit.household == h.household,
                ),
                Visit.started_at >= datetime.combine(h.since, time(), tzinfo=UTC),
                Visit.started_at < datetime.combine(due + timedelta(days=1), time(), tzinfo=UTC),
            )
        )
        if not visited:
            open_visits.append(
                OpenMustVisit(
                    community_code=h.community_code,
                    building=h.building,
                    unit=h.unit,
                    household=h.household,
                    category=h.category,
                    since=h.since,
                    due=due,
                )
            )
    return VisitReport(region=region, month=month, workers=workers, open_must_visits=open_visits)


@router.get(
    "/reports/compliance",
    summary="社工履职合规 per worker: training hours (E5), the year's case (E6), visit share (E7); rolled up",
    response_model=ComplianceReport,
    responses=problem_responses(401, 403, 404),
)
async def compliance_report(
    principal: Annotated[Principal, require(*READ_ROLES)],
    session: SessionDep,
    region: Annotated[RegionCode, Query(description="区划 region")],
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="月份 YYYY-MM (its year for E5, E6)")],
) -> ComplianceReport:
    """Each worker's findings, and their counts per community, township and county (E5–E7)."""
    year = int(month[:4])
    if not sees_region(principal, region):
        raise NotFound(Message("区划不存在", "No such region"))
    training = {r.worker_id: r for r in await training_rows(session, region, year)}
    visits = await visit_report(principal, session, region, month)
    cases = {
        c.worker_id: c.status
        for c in (
            await session.scalars(select(WorkCase).where(WorkCase.year == year, WorkCase.worker_id.in_(list(training))))
        ).all()
    }
    workers = []
    rollup: dict[str, dict[str, int]] = {}
    for row in visits.workers:
        findings = []
        if training.get(row.worker_id) is not None and training[row.worker_id].rule:
            findings.append("E5")
        if cases.get(row.worker_id) != "approved":
            findings.append("E6")
        if row.rule:
            findings.append("E7")
        workers.append(
            ComplianceRow(
                worker_id=row.worker_id,
                name=row.name,
                community_code=row.community_code,
                training_hours=training[row.worker_id].hours if row.worker_id in training else Decimal(0),
                case=cases.get(row.worker_id, "missing"),
                visit_share=row.share,
                findings=findings,
            )
        )
        for level, code in (
            ("community", row.community_code),
            ("township", row.community_code[:9] + "000"),
            ("county", row.community_code[:6]),
        ):
            counts = rollup.setdefault(f"{level}:{code}", dict.fromkeys(("E5", "E6", "E7"), 0) | {"workers": 0})
            counts["workers"] += 1
            for rule in findings:
                counts[rule] += 1
    open_by_community: dict[str, int] = {}
    for household in visits.open_must_visits:
        open_by_community[household.community_code] = open_by_community.get(household.community_code, 0) + 1
    return ComplianceReport(
        region=region, month=month, workers=workers, rollup=rollup, open_must_visits=open_by_community
    )
