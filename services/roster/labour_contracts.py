"""Labour contracts with the township: signing and renewing (H3, H4, renewal bars H7/H8) and the H9
re-contract of workers recruited before these rules. One transaction each; the rules are in
``domain.careers``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.careers import contract_end, renewal_bars
from services.roster.domain.staffing_policy import StaffingPolicy
from services.roster.errors import invalid, refused
from services.roster.models import AssessmentResult, Contract, Employment, Worker, events
from services.roster.regions import staffing_policy
from services.roster.schemas import ContractIn, RecontractIn
from shared.auth import Principal
from shared.contracts import ContractSigned
from shared.events import record_event
from shared.i18n import Message
from shared.policy_rules import decides
from shared.problems import Conflict
from shared.writes import inserted


def check_employed(worker: Worker, start: date) -> None:
    """Nothing new starts after the worker's leave date."""
    if worker.left_date is not None and start > worker.left_date:
        raise invalid("start_date", f"已于 {worker.left_date} 离职", f"the worker left on {worker.left_date}")


async def latest_contract(session: AsyncSession, worker: Worker) -> Contract | None:
    """The latest contract of the worker's current employment (a re-hire starts without one)."""
    contract: Contract | None = await session.scalar(
        select(Contract)
        .where(Contract.worker_id == worker.id, Contract.start_date >= worker.hire_date)
        .order_by(Contract.start_date.desc())
        .limit(1)
    )
    return contract


async def sign_contract(session: AsyncSession, worker: Worker, body: ContractIn) -> Contract:
    """The first contract of an employment (H3, with its probation H4) or the renewal of the latest, unless
    a renewal bar holds on the renewal date (H7 certificate, H8 two 不合格 years)."""
    check_employed(worker, body.start_date)
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    previous = await latest_contract(session, worker)
    first_probation = None
    if previous is None:
        if body.start_date < worker.hire_date:
            raise invalid("start_date", "早于入职日期", "before the hire date", "H3")
        # H4: the first contract of an employment carries its probation (inclusive end)
        first_probation = await session.scalar(
            select(Employment.probation_end).where(
                Employment.worker_id == worker.id, Employment.hire_date == worker.hire_date
            )
        )
    else:
        if body.start_date != previous.end_date:
            raise invalid(
                "start_date", f"续签应自 {previous.end_date} 起", f"a renewal starts on {previous.end_date}", "H3"
            )
        graded = select(AssessmentResult.year, AssessmentResult.grade).where(AssessmentResult.worker_id == worker.id)
        grades: dict[int, str] = dict((await session.execute(graded)).all())
        bars = renewal_bars(
            hire_date=worker.hire_date,
            certificate_date=worker.certificate_date if worker.certificate_level else None,
            renewal_date=body.start_date,
            grades=grades,
            policy=policy,
        )
        if bars:
            raise refused(bars[0].rule, "不予续签：" + bars[0].zh, "Not renewable: " + bars[0].en, "start_date")
    contract = await _add_contract(
        session,
        worker,
        body.start_date,
        policy,
        probation_end=first_probation,
        renewal_of=previous.id if previous else None,
    )
    await record_event(
        session,
        events,
        "contract.signed",
        f"worker/{worker.id}",
        ContractSigned(
            worker_id=worker.id,
            start_date=contract.start_date,
            end_date=contract.end_date,
            renewal=previous is not None,
        ).to_data(),
        region=worker.community_code,
    )
    return contract


@decides("H9")
async def recontract(session: AsyncSession, principal: Principal, worker: Worker, body: RecontractIn) -> Contract:
    """H9: a worker recruited before these rules, with no township contract in the current employment, signs
    one (one year, H3; no probation: H4 is for new workers)."""
    check_employed(worker, body.start_date)
    if body.start_date < worker.hire_date:
        raise invalid("start_date", "早于入职日期", "before the hire date", "H9")
    existing = await latest_contract(session, worker)
    if existing is not None:
        raise Conflict(
            Message(
                "已有乡镇（街道）劳动合同（自 {start}），应续签而非重新签订（H9）",
                "Already under a township contract (from {start}): renew it instead (H9)",
            ),
            rule="H9",
            start=existing.start_date,
        )
    policy = await staffing_policy(session, worker.community_code, body.start_date.year)
    contract = await _add_contract(
        session, worker, body.start_date, policy, h9_recontract=True, prior_arrangement=body.prior_arrangement
    )
    await record_event(
        session,
        events,
        "contract.recontracted",
        f"worker/{worker.id}",
        {
            "worker_id": str(worker.id),
            "contract_id": str(contract.id),
            "township_code": contract.township_code,
            "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(),
            "prior_arrangement": body.prior_arrangement,
            "rule": "H9",
            "actor": principal.subject,
        },
        region=worker.community_code,
    )
    return contract


async def contracts_of(session: AsyncSession, worker: Worker) -> list[Contract]:
    return list(
        await session.scalars(select(Contract).where(Contract.worker_id == worker.id).order_by(Contract.start_date))
    )


async def _add_contract(
    session: AsyncSession, worker: Worker, start: date, policy: StaffingPolicy, **terms: Any
) -> Contract:
    """The worker's township contract from ``start`` for the policy's term (H3), with its other ``terms``."""
    return await inserted(
        session,
        Contract(
            worker_id=worker.id,
            township_code=worker.community_code[:9] + "000",
            start_date=start,
            end_date=contract_end(start, policy),
            **terms,
        ),
    )
