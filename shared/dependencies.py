"""The principal dependencies every service's routers use, defined once (the roles each admits are in
the operation's OpenAPI entry, ``x-roles``), and the region query parameters that parse and authorise
together (:func:`region_in_scope`)."""

from __future__ import annotations

from inspect import Parameter, Signature
from typing import Annotated, Any

from fastapi import Depends, Query

from shared.auth import Principal, Role, require, require_for_record
from shared.regions import CountyCode, RegionCode
from shared.scoping import ADMIN_WRITE_ROLES, READ_ROLES, WRITE_ROLES, require_sees

# Reads a region's records: every region role, auditors and the suite's services.
Reader = Annotated[Principal, require(*READ_ROLES)]
# The same, and a worker reading their own records.
ReaderOrWorker = Annotated[Principal, require(*READ_ROLES, Role.worker)]
# Changes a region's records (readers get 403, others 401).
Writer = Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)]
# Changes what only county level and above may: the region tree, quotas, policy parameters.
Admin = Annotated[Principal, require_for_record(*ADMIN_WRITE_ROLES, readers=READ_ROLES)]


def region_in_scope(name: str, code: Any, description: str) -> Any:
    """``Depends`` of the region query parameter ``name`` (of type ``code``: a region, county or township
    code) that a :data:`Reader` must see: its value, or 404 naming it (a region outside one's scope does
    not exist for the caller, ARCHITECTURE rule 7). Use as ``Annotated[str, region_in_scope(…)]``."""

    async def in_scope(principal: Principal, **query: str) -> str:
        require_sees(principal, query[name])
        return query[name]

    in_scope.__signature__ = Signature(  # type: ignore[attr-defined]  # FastAPI reads the parameters here
        [
            Parameter("principal", Parameter.KEYWORD_ONLY, annotation=Reader),
            Parameter(name, Parameter.KEYWORD_ONLY, annotation=Annotated[code, Query(description=description)]),
        ]
    )
    return Depends(in_scope)


# ``region`` (any level) and ``county`` query parameters the caller sees (404 otherwise).
RegionInScope = Annotated[str, region_in_scope("region", RegionCode, "区划 region")]
CountyInScope = Annotated[str, region_in_scope("county", CountyCode, "县级区划 the county")]
