"""Moving a worker to another community (H5 service years, K3 career-staff stay, S5 quota of a new
county): the use case, one transaction; the rules are in ``domain.careers`` and ``domain.lifecycle``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.careers import may_transfer
from services.roster.domain.lifecycle import transfer_allowed_from
from services.roster.errors import invalid, refused
from services.roster.lifecycle import worker_event
from services.roster.models import Transfer, Worker, events
from services.roster.quota_use import check_quota
from services.roster.regions import staffing_policy, visible_region
from services.roster.schemas import TransferIn
from services.roster.worker_access import current_post
from shared.auth import Principal
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict
from shared.regions import RegionLevel, normalise
from shared.scoping import NO_SUCH_REGION, require_write


async def transfer(session: AsyncSession, principal: Principal, worker: Worker, body: TransferIn) -> Transfer:
    destination = await visible_region(session, principal, body.to_community)
    require_write(principal, destination.code, NO_SUCH_REGION)
    if destination.level != RegionLevel.community or destination.code == worker.community_code:
        raise invalid("to_community", "应为另一社区", "must be another community")
    policy = await staffing_policy(session, worker.community_code, body.effective_date.year)
    if not may_transfer(worker.hire_date, body.effective_date, policy):
        raise refused(
            "H5",
            f"任职未满{policy.min_service_years}年，不得转岗",
            f"fewer than {policy.min_service_years} years of service",
            "effective_date",
        )
    allowed_from = transfer_allowed_from(worker.career_staff_date, policy.career_staff_stay_years)
    if allowed_from is not None and body.effective_date < allowed_from:
        too_early = Conflict(
            Message(
                "取得事业编制后须在社区岗位留任满{years}年，{allowed_from} 起方可转岗（K3）",
                "After taking a career-staff post the worker stays {years} years in the community post: "
                "no transfer before {allowed_from} (K3)",
            ),
            rule="K3",
            years=policy.career_staff_stay_years,
            allowed_from=allowed_from.isoformat(),
        )
        too_early.extra["allowed_from"] = allowed_from.isoformat()
        raise too_early
    if destination.code[:6] != worker.community_code[:6]:
        await check_quota(session, destination.code[:6], body.effective_date, "effective_date")  # S5, new county
    post = await current_post(session, worker.id)
    if post is not None and post.start_date < body.effective_date:
        post.end_date = body.effective_date  # the post was in the old community
    moved = Transfer(
        worker_id=worker.id,
        from_community=worker.community_code,
        to_community=destination.code,
        effective_date=body.effective_date,
    )
    session.add(moved)
    worker.community_code = destination.code
    worker.community_path = normalise(destination.code)
    worker.version += 1
    worker.updated_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(moved)
    await record_event(
        session,
        events,
        "worker.transferred",
        f"worker/{worker.id}",
        await worker_event(session, worker)
        | {"from_community": moved.from_community, "effective_date": body.effective_date.isoformat()},
    )
    return moved
