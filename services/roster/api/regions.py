"""Regions (the division tree, communities with kind and households), quotas (S5) and staffing policy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster import region_lists, region_records
from services.roster.models import Region
from services.roster.region_lists import region_out
from services.roster.regions import staffing_policy, visible_region
from services.roster.schemas import QuotaIn, QuotaOut, RegionCreate, RegionOut, RegionPatch, StaffingPolicyOut
from shared.concurrency import check_if_match, etag
from shared.db import SessionDep
from shared.dependencies import Admin, Reader, Writer
from shared.inputs import YearPath
from shared.list_answers import list_route, paged_route
from shared.pagination import Page, PageAt
from shared.problems import problem_responses
from shared.regions import RegionCode, RegionLevel
from shared.scoping import NO_SUCH_REGION, require_write
from shared.sync import UpdatedSince

router = APIRouter(prefix="/v1", tags=["regions"], responses=problem_responses(401, 403, 404))
RegionPath = Annotated[RegionCode, Path(description="区划代码 region code (6 digits to county, 12 below)")]


async def tagged_region(session: AsyncSession, region: Region, response: Response) -> RegionOut:
    """The region as answered, its version in the ETag (sent back in If-Match to change it)."""
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


@router.post(
    "/regions",
    summary="新增区划 add a region under its parent (communities with kind and households)",
    status_code=201,
    responses=problem_responses(409),
)
async def create_region(body: RegionCreate, principal: Admin, session: SessionDep, response: Response) -> RegionOut:
    region = await region_records.create_region(session, principal, body)
    return await tagged_region(session, region, response)


@router.get("/regions/{code}", summary="查看区划 one region")
async def get_region(code: RegionPath, principal: Reader, session: SessionDep, response: Response) -> RegionOut:
    region = await visible_region(session, principal, code)
    return await tagged_region(session, region, response)


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
    return await tagged_region(session, region, response)


@paged_route(
    router, "/regions/{code}/children", RegionOut, "regions", summary="下级区划 children", problems=(401, 403, 404)
)
async def list_children(
    at: PageAt, code: RegionPath, principal: Reader, updated_since: UpdatedSince = None
) -> Page[RegionOut]:
    return await region_lists.children(at, principal, code, updated_since)


@paged_route(
    router,
    "/regions/{code}/descendants",
    RegionOut,
    "regions",
    summary="全部下级 all descendants, optionally of one level",
    problems=(401, 403, 404),
)
async def list_descendants(
    at: PageAt,
    code: RegionPath,
    principal: Reader,
    level_: Annotated[RegionLevel | None, Query(alias="level")] = None,
    updated_since: UpdatedSince = None,
) -> Page[RegionOut]:
    return await region_lists.descendants(at, principal, code, level_, updated_since)


@list_route(router, "/regions/{code}/ancestors", RegionOut, "regions", summary="上级区划 ancestors, nearest first")
async def list_ancestors(code: RegionPath, principal: Reader, session: SessionDep) -> list[RegionOut]:
    return await region_lists.ancestors_of(session, principal, code)


@router.put("/quotas/{county_code}/{year}", summary="核定员额 set a county's headcount quota for a year (S5)")
async def set_quota(
    county_code: RegionPath, year: YearPath, body: QuotaIn, principal: Admin, session: SessionDep
) -> QuotaOut:
    return await region_records.set_quota(session, principal, county_code, year, body)


@router.get("/quotas/{county_code}/{year}", summary="查看员额 a county's quota and its use (S5)")
async def get_quota(county_code: RegionPath, year: YearPath, principal: Reader, session: SessionDep) -> QuotaOut:
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
