"""The principal dependencies every service's routers use, defined once (the roles each admits are in
the operation's OpenAPI entry, ``x-roles``)."""

from __future__ import annotations

from typing import Annotated

from shared.auth import Principal, Role, require, require_for_record
from shared.scoping import ADMIN_WRITE_ROLES, READ_ROLES, WRITE_ROLES

# Reads a region's records: every region role, auditors and the suite's services.
Reader = Annotated[Principal, require(*READ_ROLES)]
# The same, and a worker reading their own records.
ReaderOrWorker = Annotated[Principal, require(*READ_ROLES, Role.worker)]
# Changes a region's records (readers get 403, others 401).
Writer = Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)]
# Changes what only county level and above may: the region tree, quotas, policy parameters.
Admin = Annotated[Principal, require_for_record(*ADMIN_WRITE_ROLES, readers=READ_ROLES)]
