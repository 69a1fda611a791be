"""Regions (the division tree, communities with kind and households), quotas (S5) and staffing policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from services.roster import region_records
from services.roster.domain.staffing import required_staff
from services.roster.models import Region, StaffingPolicyOverride
from services.roster.regions import (
    policy_overrides,
    resolve_policy,
    staffing_policy,
    visible_region,
)
from services.roster.schemas import QuotaIn, QuotaOut, RegionCreate, RegionOut, RegionPatch, StaffingPolicyOut
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.dependencies import Admin, Reader, Writer
from shared.exports import EXPORT_RESPONSES, ExportDep, exported, exported_pages
from shared.inputs import YearPath
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import problem_responses
from shared.regions import RegionCode, RegionLevel, ancestors, scope_prefix
from shared.scoping import NO_SUCH_REGION, path_filter, require_write

router = APIRouter(prefix="/v1", tags=["regions"], responses=problem_responses(401, 403, 404))
RegionPath = Annotated[RegionCode, Path(description="区划代码 region code (6 digits to county, 12 below)")]


async def region_out(session: SessionDep, region: Region) -> RegionOut:
    return (await regions_out(session, [region]))[0]


async def regions_out(session: SessionDep, regions: list[Region]) -> list[RegionOut]:
    """Regions with the staffing each community needs this year; the policies are read once for all."""
    overrides = await policy_overrides(session, datetime.now(UTC).year)
    return [region_view(r, overrides) for r in regions]


def region_view(region: Region, overrides: dict[str, StaffingPolicyOverride]) -> RegionOut:
    required = None
    if region.level == RegionLevel.community and region.kind:
        policy = resolve_policy(overrides, region.code)
        required = required_staff(region.kind, region.households, region.extra_staff, policy)[0]
    return RegionOut(
        code=region.code,
        name=region.name,
        parent_code=region.parent_code,
        level=region.level,
        kind=region.kind,
        households=region.households,
        population=region.population,
        extra_staff=region.extra_staff,
        extra_staff_approval=region.extra_staff_approval,
        required_staff=required,
        version=region.version,
    )


@router.post(
    "/regions",
    summary="新增区划 add a region under its parent (communities with kind and households)",
    status_code=201,
    responses=problem_responses(409),
)
async def create_region(body: RegionCreate, principal: Admin, session: SessionDep, response: Response) -> RegionOut:
    region = await region_records.create_region(session, principal, body)
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


@router.get(
    "/regions/{code}",
    summary="查看区划 one region",
)
async def get_region(code: RegionPath, principal: Reader, session: SessionDep, response: Response) -> RegionOut:
    region = await visible_region(session, principal, code)
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


@router.patch(
    "/regions/{code}",
    summary="修改区划 change name, kind, households, population, extra posts (If-Match)",
    responses=problem_responses(412, 428),
)
async def update_region(
    code: RegionPath, body: RegionPatch, principal: Writer, session: SessionDep, request: Request, response: Response
) -> RegionOut:
    region = await visible_region(session, principal, code, lock=True)
    require_write(principal, code, NO_SUCH_REGION)
    check_if_match(request, region.code, region.version)
    region = await region_records.change_region(session, region, body)
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


async def _region_page(
    session: SessionDep, query: Any, limit: int, cursor: str | None, filters: dict[str, Any]
) -> Page[RegionOut]:
    if cursor:
        (after,) = decode_cursor(cursor, filters, (str,))
        query = query.where(Region.path > str(after))
    rows, more = await fetch_page(session, query.order_by(Region.path), limit)
    items = await regions_out(session, rows)
    return Page[RegionOut](items=items, next_cursor=encode_cursor([rows[-1].path], filters) if more else None)


@router.get(
    "/regions/{code}/children",
    summary="下级区划 children",
    response_model=Page[RegionOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def list_children(
    request: Request,
    export: ExportDep,
    code: RegionPath,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[RegionOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[RegionOut]:
        await visible_region(session, principal, code)
        query = select(Region).where(Region.parent_code == code, path_filter(principal, Region.path))
        return await _region_page(session, query, limit, cursor, {"children": code})

    if export is not None:
        return await exported_pages(request, export, page, RegionOut, "regions")
    return await page(session, cursor, limit)


@router.get(
    "/regions/{code}/descendants",
    summary="全部下级 all descendants, optionally of one level",
    response_model=Page[RegionOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def list_descendants(
    request: Request,
    export: ExportDep,
    code: RegionPath,
    principal: Reader,
    session: SessionDep,
    level_: Annotated[RegionLevel | None, Query(alias="level")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[RegionOut] | StreamingResponse:
    async def page(session: AsyncSession, cursor: str | None, limit: int) -> Page[RegionOut]:
        region = await visible_region(session, principal, code)
        query = select(Region).where(
            Region.path.startswith(scope_prefix(region.code)), Region.code != code, path_filter(principal, Region.path)
        )
        if level_ is not None:
            query = query.where(Region.level == level_.value)
        return await _region_page(session, query, limit, cursor, {"descendants": code, "level": level_})

    if export is not None:
        return await exported_pages(request, export, page, RegionOut, "regions")
    return await page(session, cursor, limit)


@router.get(
    "/regions/{code}/ancestors",
    summary="上级区划 ancestors, nearest first",
    response_model=list[RegionOut],
    responses=problem_responses(401, 403, 404) | EXPORT_RESPONSES,
)
async def list_ancestors(
    request: Request, export: ExportDep, code: RegionPath, principal: Reader, session: SessionDep
) -> list[RegionOut] | StreamingResponse:
    await visible_region(session, principal, code)
    nearest_first = ancestors(code)
    rows = {r.code: r for r in (await session.scalars(select(Region).where(Region.code.in_(nearest_first)))).all()}
    return await exported(
        request, export, await regions_out(session, [rows[c] for c in nearest_first if c in rows]), RegionOut, "regions"
    )


@router.put(
    "/quotas/{county_code}/{year}",
    summary="核定员额 set a county's headcount quota for a year (S5)",
)
async def set_quota(
    county_code: RegionPath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: QuotaIn,
    principal: Admin,
    session: SessionDep,
) -> QuotaOut:
    return await region_records.set_quota(session, principal, county_code, year, body)


@router.get(
    "/quotas/{county_code}/{year}",
    summary="查看员额 a county's quota and its use (S5)",
)
async def get_quota(
    county_code: RegionPath, year: Annotated[int, Path(ge=2000, le=2100)], principal: Reader, session: SessionDep
) -> QuotaOut:
    return await region_records.read_quota(session, principal, county_code, year)


class StaffingPolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = Field(
        description=(
            "配备参数 any of base_staff, household_threshold, household_step, rounding, rural_min, rural_max, "
            "min_resident_workers, min_generalists, max_chiefs_with_approval, min_deputies, max_deputies "
            "(S1–S8, P2–P3)"
        )
    )
    source: str = Field(min_length=1, max_length=300, description="依据 the document the values come from")


@router.put(
    "/staffing-policies/{region_code}/{year}",
    summary="设定配备参数 set a region's staffing parameters for a year (S1–S8, P2–P3)",
)
async def set_staffing_policy(
    region_code: RegionPath, year: YearPath, body: StaffingPolicyIn, principal: Admin, session: SessionDep
) -> StaffingPolicyOut:
    policy = await region_records.set_staffing_policy(
        session, principal, region_code, year, body.parameters, body.source
    )
    return StaffingPolicyOut(**policy.as_dict())


@router.get(
    "/staffing-policies/{region_code}/{year}",
    summary="生效的配备参数 the staffing parameters in force for a region and year (walked up the tree)",
)
async def get_staffing_policy(
    region_code: RegionPath, year: YearPath, principal: Reader, session: SessionDep
) -> StaffingPolicyOut:
    await visible_region(session, principal, region_code)
    return StaffingPolicyOut(**(await staffing_policy(session, region_code, year)).as_dict())
