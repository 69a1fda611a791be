"""The mobile app's reads (E7): a worker's own visits, a household's visit history, and the down-sync of
what the app needs offline. The use cases are in ``services.evaluation.visits`` and ``mobile_sync``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.evaluation import mobile_sync, visits
from services.evaluation.schemas import SyncOut, VisitOut
from shared.auth import Principal, Role, require
from shared.db import SessionDep
from shared.dependencies import ReaderOrWorker
from shared.list_answers import paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses
from shared.regions import CommunityCode
from shared.sync import UpdatedSince

router = APIRouter(prefix="/v1", tags=["mobile"], responses=problem_responses(401, 403, 404))
Worker = Annotated[Principal, require(Role.worker)]


@paged_route(
    router,
    "/visits",
    VisitOut,
    "visits",
    summary="走访记录 a worker's visits, oldest first (E7); a worker reads only their own",
    problems=(404, 422),
)
async def list_visits(
    at: PageAt,
    principal: ReaderOrWorker,
    worker_id: Annotated[uuid.UUID | None, Query(description="社工编号 (a worker's token says who)")] = None,
    since: Annotated[date | None, Query(description="起始日期 visits started on or after this day (UTC)")] = None,
    updated_since: UpdatedSince = None,
) -> Page[VisitOut]:
    return await visits.worker_visits(at, principal, worker_id, since, updated_since)


@paged_route(
    router,
    "/communities/{community_code}/households/{building}/{unit}/{household}/visits",
    VisitOut,
    "household-visits",
    summary="住户走访史 a household's visits, oldest first (E7)",
    problems=(404,),
)
async def household_visits(
    at: PageAt,
    community_code: Annotated[CommunityCode, Path(description="社区代码 community")],
    building: Annotated[str, Path(min_length=1, max_length=20, description="楼栋 building")],
    unit: Annotated[str, Path(min_length=1, max_length=20, description="单元 unit")],
    household: Annotated[str, Path(min_length=1, max_length=20, description="户 door number")],
    principal: ReaderOrWorker,
    updated_since: UpdatedSince = None,
) -> Page[VisitOut]:
    return await visits.household_visits(at, principal, community_code, building, unit, household, updated_since)


@router.get(
    "/mobile/sync",
    summary="移动端同步 the worker's must-visit households (changes and deletions since the cursor) and this "
    "month's targets (E7)",
)
async def mobile_sync_endpoint(
    session: SessionDep,
    principal: Worker,
    cursor: Annotated[str | None, Query(description="游标 the cursor of the last sync; none for everything")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="每次变更条数 changes per answer")] = 500,
) -> SyncOut:
    return await mobile_sync.sync(session, principal, cursor, limit, datetime.now(UTC).date())
