"""Who sees and changes which records: region scope by role (ARCHITECTURE rule 7), for every service.

Regional roles see every record in their region (SQL: the record's 12-digit path starts with the
grant's scope prefix); a worker sees only their own record, and only while their worker grant covers
its community (a token naming a worker moved to another county reads nothing of it: rule AC1,
``docs/security.md``). Outside the scope a record does not exist
for the caller (404); inside it, a read-only caller who tries to change it gets 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import ADMIN_ROLES, REGION_ROLES, Principal, Role
from shared.i18n import Message
from shared.problems import Forbidden, NotFound
from shared.regions import contains, scope_prefix

READ_ROLES = frozenset({*REGION_ROLES, Role.auditor, Role.service})
WRITE_ROLES = frozenset({*ADMIN_ROLES, Role.township_officer, Role.service})  # service: e.g. the C7 step-up
# Who may change the region tree, quotas and staffing parameters: county level and above.
ADMIN_WRITE_ROLES = ADMIN_ROLES


def path_filter(principal: Principal, path_column: Any, roles: frozenset[Role] = READ_ROLES) -> ColumnElement[bool]:
    """SQL: the record's 12-digit region path lies in one of the principal's regions for ``roles``."""
    prefixes = [scope_prefix(region) for region in principal.regions(roles)]
    if not prefixes:
        return false()
    return or_(*(path_column.startswith(prefix) for prefix in prefixes))


def sees_region(principal: Principal, region: str, roles: frozenset[Role] = READ_ROLES) -> bool:
    return any(contains(scope, region) for scope in principal.regions(roles))


NO_SUCH_REGION = Message("区划不存在：{code}", "No such region: {code}")
NO_SUCH_WORKER = Message("社工不存在", "No such worker")
RowT = TypeVar("RowT")


WorkerT = TypeVar("WorkerT", bound="WorkerRecord")


class WorkerRecord(Protocol):
    """A worker as the compensation and evaluation projections hold one."""

    worker_id: uuid.UUID
    community_code: str


def visible_or_404(row: RowT | None, visible: Callable[[RowT], bool], missing: Message) -> RowT:
    """``row`` when it exists and ``visible`` says the caller may see it; otherwise 404 ``missing`` (a record
    outside one's scope does not exist for the caller)."""
    if row is None or not visible(row):
        raise NotFound(missing)
    return row


@dataclass(frozen=True)
class RegionScoped(Generic[RowT]):
    """A finder of one ``model`` row by primary key for a caller: the row when its region (``region`` of the
    row) is one the caller sees, locked ``FOR UPDATE`` with ``lock``; otherwise 404 ``missing``. Each area
    declares its own, e.g. ``visible_run = RegionScoped(PayrollRun, lambda r: r.region_code, NO_SUCH_RUN)``."""

    model: type[RowT]
    region: Callable[[RowT], str]
    missing: Message

    async def __call__(self, session: AsyncSession, principal: Principal, key: Any, *, lock: bool = False) -> RowT:
        row = await session.get(self.model, key, with_for_update=lock)
        return visible_or_404(row, lambda r: sees_region(principal, self.region(r)), self.missing)


async def visible_projected_worker(
    session: AsyncSession, model: type[WorkerT], principal: Principal, worker_id: uuid.UUID
) -> WorkerT:
    """A projected worker the caller may see: within its region, or the worker themselves (AC1)."""
    worker = await session.get(model, worker_id)
    return visible_or_404(worker, lambda w: sees_worker(principal, w.worker_id, w.community_code), NO_SUCH_WORKER)


def require_sees(principal: Principal, region: str, roles: frozenset[Role] = READ_ROLES) -> None:
    """404 naming the region when the caller cannot see it (a region outside one's scope does not exist)."""
    if not sees_region(principal, region, roles):
        raise NotFound(NO_SUCH_REGION, code=region)


WORKER_ROLES = frozenset({Role.worker})


def own_worker_id(principal: Principal) -> uuid.UUID | None:
    """The worker the token names, for a caller holding the worker role (None otherwise, or if malformed)."""
    if Role.worker not in principal.roles or not principal.worker_id:
        return None
    try:
        return uuid.UUID(principal.worker_id)
    except ValueError:
        return None


def is_own_worker(principal: Principal, worker_id: uuid.UUID, community: str) -> bool:
    """The caller is this worker and a worker grant of theirs still covers the worker's community (AC1)."""
    return own_worker_id(principal) == worker_id and sees_region(principal, community, WORKER_ROLES)


def own_worker_filter(principal: Principal, id_column: Any, path_column: Any) -> ColumnElement[bool]:
    """SQL form of :func:`is_own_worker`: the caller's own record, inside a worker grant's region."""
    own = own_worker_id(principal)
    if own is None:
        return false()
    return and_(id_column == own, path_filter(principal, path_column, WORKER_ROLES))


def sees_worker(principal: Principal, worker_id: uuid.UUID, community: str) -> bool:
    return sees_region(principal, community) or is_own_worker(principal, worker_id, community)


def require_write(principal: Principal, region: str, what: Message, roles: frozenset[Role] = WRITE_ROLES) -> None:
    """404 when the caller cannot see ``region``; 403 when it can but may not change it."""
    if sees_region(principal, region, roles):
        return
    if sees_region(principal, region):
        raise Forbidden(Message("只读：无权修改", "Read-only: not allowed to change this"))
    raise NotFound(what, code=region)  # ``what`` may name the region ("No such region: {code}")
