"""Who sees and changes which records: region scope by role (ARCHITECTURE rule 7), for every service.

Regional roles see every record in their region (SQL: the record's 12-digit path starts with the
grant's scope prefix); a worker sees only their own record. Outside the scope a record does not exist
for the caller (404); inside it, a read-only caller who tries to change it gets 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false, or_

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


def sees_worker(principal: Principal, worker_id: uuid.UUID, community: str) -> bool:
    if sees_region(principal, community):
        return True
    return Role.worker in principal.roles and principal.worker_id == str(worker_id)


def require_write(principal: Principal, region: str, what: Message, roles: frozenset[Role] = WRITE_ROLES) -> None:
    """404 when the caller cannot see ``region``; 403 when it can but may not change it."""
    if sees_region(principal, region, roles):
        return
    if sees_region(principal, region):
        raise Forbidden(Message("只读：无权修改", "Read-only: not allowed to change this"))
    raise NotFound(what, code=region)  # ``what`` may name the region ("No such region: {code}")
