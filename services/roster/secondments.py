"""Loans to a department and practice postings (H6): the use case, one transaction; the limits are in
``domain.careers.secondment_problem``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.careers import secondment_problem
from services.roster.errors import invalid, refused
from services.roster.labour_contracts import check_employed
from services.roster.lifecycle import publish_status_change
from services.roster.models import Secondment, Worker, events
from services.roster.regions import staffing_policy
from services.roster.schemas import SecondmentIn
from shared.events import record_event
from shared.writes import inserted


async def second(session: AsyncSession, worker: Worker, body: SecondmentIn) -> Secondment:
    if body.end_date <= body.start_date:
        raise invalid("end_date", "应晚于开始日期", "must be after the start date")
    check_employed(worker, body.start_date)
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    problem = secondment_problem(body.kind.value, body.start_date, body.end_date, body.approval, policy)
    if problem is not None:
        field = "approval" if body.kind == "loan" and not body.approval else "end_date"
        raise refused(problem.rule, problem.zh, problem.en, field)
    row = Secondment(worker_id=worker.id, **body.model_dump(mode="python") | {"kind": body.kind.value})
    await inserted(session, row)
    await record_event(
        session,
        events,
        "worker.seconded",
        f"worker/{worker.id}",
        {"worker_id": str(worker.id)} | body.model_dump(mode="json"),
        region=worker.community_code,
    )
    await publish_status_change(session, worker)  # on_loan from today, if the loan has begun (H6)
    return row
