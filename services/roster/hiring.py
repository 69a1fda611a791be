"""Hiring and re-hiring (one record per person, found by the keyed hash of the ID number; S5 quota on
every day from the hire date; H4 probation) and finding a person by ID number: use cases, one transaction
each; the rules are in ``domain`` (``id_numbers``, ``working_age``, ``lifecycle``, ``careers``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain import lifecycle
from services.roster.domain.careers import probation_end
from services.roster.domain.id_numbers import InvalidIdNumber, ResidentId, id_number_key, parse_id_number
from services.roster.domain.working_age import birth_date_problem, working_age_problem
from services.roster.errors import invalid
from services.roster.lifecycle import Lifecycles, worker_event
from services.roster.models import Employment, Worker, events
from services.roster.quota_use import check_quota
from services.roster.regions import staffing_policy, visible_region
from services.roster.schemas import WorkerCreate, WorkerStatus
from shared.auth import Principal
from shared.business_time import business_today
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, FieldError, UnprocessableContent
from shared.regions import RegionLevel, normalise
from shared.scoping import NO_SUCH_REGION, NO_SUCH_WORKER, require_write, sees_worker, visible_or_404

ALREADY_RECORDED = Message(
    "此人已有社工档案（全省唯一），且尚未离职",
    "This person already has a worker record (one per province) and has not left",
)


def resident_of(id_number: str) -> ResidentId:
    """The person an ID number names, or a 422 on ``id_number`` saying what is wrong with it."""
    try:
        return parse_id_number(id_number)
    except InvalidIdNumber as exc:
        raise UnprocessableContent(
            Message("身份证号无效：{zh}", "Invalid ID number: {en}"),
            errors=[FieldError.of("id_number", Message(exc.reason_zh, exc.reason_en), type="id_number")],
            zh=exc.reason_zh,
            en=exc.reason_en,
        ) from exc


def check_person(body: WorkerCreate, resident: ResidentId) -> None:
    """The ID number's birth date is a person's; the record agrees with it; working age on the hire date."""
    problem = birth_date_problem(resident.birth_date, business_today())
    if problem is not None:
        raise invalid("id_number", problem.zh, problem.en)
    if body.birth_date is not None and body.birth_date != resident.birth_date:
        raise invalid(
            "birth_date",
            f"与身份证号中的出生日期 {resident.birth_date} 不符",
            f"does not agree with the ID number's birth date {resident.birth_date}",
        )
    if body.sex is not None and body.sex.value != resident.sex:
        raise invalid("sex", "与身份证号中的性别不符", f"does not agree with the ID number's sex ({resident.sex})")
    problem = working_age_problem(resident.birth_date, resident.sex, body.hire_date)
    if problem is not None:
        raise invalid(problem.field, problem.zh, problem.en)


async def hire(session: AsyncSession, principal: Principal, body: WorkerCreate, id_secret: bytes) -> Worker:
    """A new worker, or the re-hire of one who has left (same record, a new employment with its probation)."""
    resident = resident_of(body.id_number)
    check_person(body, resident)
    community = await visible_region(session, principal, body.community_code)
    if community.level != RegionLevel.community:
        raise invalid("community_code", "应为社区（村）代码", "must be a community or village", "S1")
    require_write(principal, community.code, NO_SUCH_REGION)
    key = id_number_key(resident.number, id_secret)
    worker = await session.scalar(select(Worker).where(Worker.id_number_key == key).with_for_update())
    if worker is not None:
        periods = (await Lifecycles.load(session, [worker.id])).periods(worker.id)
        if not lifecycle.may_rehire(periods, body.hire_date):
            raise Conflict(ALREADY_RECORDED)
    await check_quota(session, community.code[:6], body.hire_date)  # S5 on every day from the hire date
    fields = body.model_dump(exclude={"id_number", "community_code", "hire_date", "birth_date", "sex"})
    if worker is None:
        worker = Worker(
            id_number_key=key,
            id_number=resident.number,
            sex=resident.sex,
            birth_date=resident.birth_date,
            status=WorkerStatus.pending.value,  # replaced below by the status derived for today
            **fields,
        )
        session.add(worker)
    else:  # re-hire: the same person record, a new employment (its probation starts again, H4)
        for field, value in fields.items():
            setattr(worker, field, value)
        worker.left_date = None
        worker.version += 1
        worker.updated_at = datetime.now(UTC)
    worker.community_code = community.code
    worker.community_path = normalise(community.code)
    worker.hire_date = body.hire_date
    try:
        await session.flush()
    except IntegrityError as exc:  # the same person hired twice at once: the unique key decides
        raise Conflict(ALREADY_RECORDED) from exc
    policy = await staffing_policy(session, community.code, body.hire_date.year)
    session.add(
        Employment(
            worker_id=worker.id,
            hire_date=body.hire_date,
            probation_end=probation_end(body.hire_date, policy),  # H4
        )
    )
    await session.flush()
    await session.refresh(worker)
    data = await worker_event(session, worker)
    await session.flush()
    await record_event(session, events, "worker.hired", f"worker/{worker.id}", data)
    return worker


async def find_by_id_number(session: AsyncSession, principal: Principal, id_number: str, id_secret: bytes) -> Worker:
    key = id_number_key(resident_of(id_number).number, id_secret)
    worker = await session.scalar(select(Worker).where(Worker.id_number_key == key))
    return visible_or_404(worker, lambda w: sees_worker(principal, w.id, w.community_code), NO_SUCH_WORKER)
