"""The principal dependencies every service's routers use, defined once (the roles each admits are in
the operation's OpenAPI entry, ``x-roles``), and the region parameters that parse and authorise together
(:func:`region_in_scope` for reading, :func:`region_to_change` for a county-level change)."""

from __future__ import annotations

from collections.abc import Callable
from inspect import Parameter, Signature
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from shared.auth import Principal, Role, require, require_for_record
from shared.regions import CountyCode, RegionCode
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, READ_ROLES, WRITE_ROLES, require_sees, require_write

# Reads a region's records: every region role, auditors and the suite's services.
Reader = Annotated[Principal, require(*READ_ROLES)]
# The same, and a worker reading their own records.
ReaderOrWorker = Annotated[Principal, require(*READ_ROLES, Role.worker)]
# Changes a region's records (readers get 403, others 401).
Writer = Annotated[Principal, require_for_record(*WRITE_ROLES, readers=READ_ROLES)]
# Changes what only county level and above may: the region tree, quotas, policy parameters.
Admin = Annotated[Principal, require_for_record(*ADMIN_WRITE_ROLES, readers=READ_ROLES)]


def _region_parameter(
    name: str, code: Any, parameter: Any, principal: Any, check: Callable[[Principal, str], None]
) -> Any:
    """``Depends`` of the region parameter ``name`` (of type ``code``: a region, county or township code; a
    ``Query`` or ``Path``) that ``check`` lets the ``principal`` dependency's caller use: its value, or the
    check's problem. FastAPI reads the dependency's parameters from the signature set here."""

    async def region(principal: Principal, **parameters: str) -> str:
        check(principal, parameters[name])
        return parameters[name]

    region.__signature__ = Signature(  # type: ignore[attr-defined]
        [
            Parameter("principal", Parameter.KEYWORD_ONLY, annotation=principal),
            Parameter(name, Parameter.KEYWORD_ONLY, annotation=Annotated[code, parameter]),
        ]
    )
    return Depends(region)


def region_in_scope(name: str, code: Any, description: str) -> Any:
    """The region query parameter ``name`` a :data:`Reader` must see: 404 naming it otherwise (a region
    outside one's scope does not exist for the caller, ARCHITECTURE rule 7). ``Annotated[str, …]``."""
    return _region_parameter(name, code, Query(description=description), Reader, require_sees)


def region_to_change(name: str, code: Any) -> Any:
    """The region path parameter ``name`` whose settings an :data:`Admin` (county level and above) changes:
    404 outside the caller's scope, 403 inside it for a reader. ``Annotated[str, …]``."""

    def check(principal: Principal, region: str) -> None:
        require_write(principal, region, NO_SUCH_REGION, ADMIN_WRITE_ROLES)

    return _region_parameter(name, code, Path(), Admin, check)


# ``region`` (any level) and ``county`` query parameters the caller sees (404 otherwise).
RegionInScope = Annotated[str, region_in_scope("region", RegionCode, "区划 region")]
CountyInScope = Annotated[str, region_in_scope("county", CountyCode, "县级区划 the county")]
# An optional ``region`` filter of a list the caller's scope already bounds: its rows within this region.
WithinRegion = Annotated[RegionCode | None, Query(description="区划 within this region")]
