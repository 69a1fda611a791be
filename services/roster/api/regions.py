"""Regions (the division tree, communities with kind and households), quotas (S5) and staffing policy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.roster.domain.staffing import extra_staff_problem, required_staff
from services.roster.domain.staffing_policy import StaffingPolicy
from services.roster.errors import invalid
from services.roster.models import Quota, Region, StaffingPolicyOverride, events
from services.roster.quota_use import quota_used
from services.roster.regions import (
    NO_SUCH_REGION,
    policy_overrides,
    resolve_policy,
    staffing_policy,
    visible_region,
)
from services.roster.schemas import QuotaIn, QuotaOut, RegionCreate, RegionOut, RegionPatch, StaffingPolicyOut
from shared.concurrency import check_if_match, etag
from shared.contracts import QuotaSet
from shared.db import SessionDep
from shared.dependencies import Admin, Reader, Writer
from shared.events import record_event
from shared.i18n import Message
from shared.inputs import YearPath
from shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, fetch_page
from shared.problems import Conflict, NotFound, problem_responses
from shared.regions import RegionCode, RegionLevel, ancestors, child_code_problem, level, normalise, scope_prefix
from shared.scoping import ADMIN_WRITE_ROLES, path_filter, require_write, sees_region

router = APIRouter(prefix="/v1", tags=["regions"])
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


def check_extra_staff(kind: str | None, extra: int, approval: str | None) -> None:
    """S3: extra posts only for 商住/老旧 communities, and only with the approving document."""
    violation = extra_staff_problem(kind, extra, approval)
    if violation is not None:
        raise invalid(violation.field, violation.zh, violation.en, violation.rule)


@router.post(
    "/regions",
    summary="新增区划 add a region under its parent (communities with kind and households)",
    status_code=201,
    response_model=RegionOut,
    responses=problem_responses(401, 403, 404, 409),
)
async def create_region(body: RegionCreate, principal: Admin, session: SessionDep, response: Response) -> RegionOut:
    region_level = level(body.code)
    if body.parent_code is None:
        if region_level != RegionLevel.province:
            raise invalid("parent_code", "须指定上级区划", "a parent is required below province level")
        require_write(principal, body.code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    else:
        parent = await visible_region(session, principal, body.parent_code)
        problem = child_code_problem(parent.code, body.code)  # GB/T 2260: a child's code extends its parent's
        if problem is not None:
            raise invalid("code", problem.zh, problem.en)
        require_write(principal, body.code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    if (region_level == RegionLevel.community) != (body.kind is not None):
        raise invalid("kind", "社区须填类型，其他层级不填", "a community needs a kind; other levels have none", "S1")
    check_extra_staff(body.kind, body.extra_staff, body.extra_staff_approval)
    region = Region(
        code=body.code,
        path=normalise(body.code),
        parent_code=body.parent_code,
        level=region_level.value,
        name=body.name,
        kind=body.kind.value if body.kind else None,
        households=body.households,
        population=body.population,
        extra_staff=body.extra_staff,
        extra_staff_approval=body.extra_staff_approval,
    )
    session.add(region)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(Message("区划已存在：{code}", "Region exists: {code}"), code=body.code) from exc
    await record_event(session, events, "region.created", f"region/{region.code}", body.model_dump(mode="json"))
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


@router.get(
    "/regions/{code}",
    summary="查看区划 one region",
    response_model=RegionOut,
    responses=problem_responses(401, 403, 404),
)
async def get_region(code: RegionPath, principal: Reader, session: SessionDep, response: Response) -> RegionOut:
    region = await visible_region(session, principal, code)
    response.headers["ETag"] = etag(region.code, region.version)
    return await region_out(session, region)


@router.patch(
    "/regions/{code}",
    summary="修改区划 change name, kind, households, population, extra posts (If-Match)",
    response_model=RegionOut,
    responses=problem_responses(401, 403, 404, 412, 428),
)
async def update_region(
    code: RegionPath, body: RegionPatch, principal: Writer, session: SessionDep, request: Request, response: Response
) -> RegionOut:
    region = await visible_region(session, principal, code, lock=True)
    require_write(principal, code, NO_SUCH_REGION)
    check_if_match(request, region.code, region.version)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if "kind" in changes and region.level != RegionLevel.community:
        raise invalid("kind", "仅社区有类型", "only communities have a kind")
    for field, value in changes.items():
        setattr(region, field, value)
    check_extra_staff(region.kind, region.extra_staff, region.extra_staff_approval)
    region.version += 1
    region.updated_at = datetime.now(UTC)
    await session.flush()
    await record_event(session, events, "region.updated", f"region/{code}", changes | {"version": region.version})
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
    responses=problem_responses(401, 403, 404),
)
async def list_children(
    code: RegionPath,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[RegionOut]:
    await visible_region(session, principal, code)
    query = select(Region).where(Region.parent_code == code, path_filter(principal, Region.path))
    return await _region_page(session, query, limit, cursor, {"children": code})


@router.get(
    "/regions/{code}/descendants",
    summary="全部下级 all descendants, optionally of one level",
    response_model=Page[RegionOut],
    responses=problem_responses(401, 403, 404),
)
async def list_descendants(
    code: RegionPath,
    principal: Reader,
    session: SessionDep,
    level_: Annotated[RegionLevel | None, Query(alias="level")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[RegionOut]:
    region = await visible_region(session, principal, code)
    query = select(Region).where(
        Region.path.startswith(scope_prefix(region.code)), Region.code != code, path_filter(principal, Region.path)
    )
    if level_ is not None:
        query = query.where(Region.level == level_.value)
    return await _region_page(session, query, limit, cursor, {"descendants": code, "level": level_})


@router.get(
    "/regions/{code}/ancestors",
    summary="上级区划 ancestors, nearest first",
    response_model=list[RegionOut],
    responses=problem_responses(401, 403, 404),
)
async def list_ancestors(code: RegionPath, principal: Reader, session: SessionDep) -> list[RegionOut]:
    await visible_region(session, principal, code)
    nearest_first = ancestors(code)
    rows = {r.code: r for r in (await session.scalars(select(Region).where(Region.code.in_(nearest_first)))).all()}
    return await regions_out(session, [rows[c] for c in nearest_first if c in rows])


@router.put(
    "/quotas/{county_code}/{year}",
    summary="核定员额 set a county's headcount quota for a year (S5)",
    response_model=QuotaOut,
    responses=problem_responses(401, 403, 404),
)
async def set_quota(
    county_code: RegionPath,
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: QuotaIn,
    principal: Admin,
    session: SessionDep,
) -> QuotaOut:
    county = await visible_region(session, principal, county_code)
    if county.level != RegionLevel.county:
        raise NotFound(Message("不是县级区划：{code}", "Not a county: {code}"), code=county_code)
    require_write(principal, county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    quota = await session.get(Quota, (county_code, year), with_for_update=True)
    if quota is None:
        quota = Quota(county_code=county_code, year=year, headcount=body.headcount, approval=body.approval)
        session.add(quota)
    else:
        quota.headcount, quota.approval = body.headcount, body.approval
        quota.version += 1
        quota.updated_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session,
        events,
        "quota.set",
        f"quota/{county_code}/{year}",
        QuotaSet(county_code=county_code, year=year, headcount=body.headcount).to_data(),
    )
    return QuotaOut(
        county_code=county_code,
        year=year,
        headcount=body.headcount,
        used=await quota_used(session, county_code, year),
        approval=body.approval,
    )


@router.get(
    "/quotas/{county_code}/{year}",
    summary="查看员额 a county's quota and its use (S5)",
    response_model=QuotaOut,
    responses=problem_responses(401, 403, 404),
)
async def get_quota(
    county_code: RegionPath, year: Annotated[int, Path(ge=2000, le=2100)], principal: Reader, session: SessionDep
) -> QuotaOut:
    if not sees_region(principal, county_code):
        raise NotFound(NO_SUCH_REGION, code=county_code)
    quota = await session.get(Quota, (county_code, year))
    if quota is None:
        raise NotFound(
            Message("{code} 未核定 {year} 年员额", "No {year} quota for {code}"), code=county_code, year=year
        )
    return QuotaOut(
        county_code=county_code,
        year=year,
        headcount=quota.headcount,
        used=await quota_used(session, county_code, year),
        approval=quota.approval,
    )


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
    response_model=StaffingPolicyOut,
    responses=problem_responses(401, 403, 404),
)
async def set_staffing_policy(
    region_code: RegionPath, year: YearPath, body: StaffingPolicyIn, principal: Admin, session: SessionDep
) -> StaffingPolicyOut:
    await visible_region(session, principal, region_code)
    require_write(principal, region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    unknown = sorted(set(body.parameters) - set(StaffingPolicy.__dataclass_fields__) - {"source"})
    if unknown:
        raise invalid("parameters", f"未知参数 {unknown}", f"unknown parameters {unknown}")
    row = await session.get(StaffingPolicyOverride, (region_code, year), with_for_update=True)
    if row is None:
        session.add(
            StaffingPolicyOverride(region_code=region_code, year=year, parameters=body.parameters, source=body.source)
        )
    else:
        row.parameters, row.source = body.parameters, body.source
    await session.flush()
    await record_event(
        session, events, "staffing_policy.set", f"staffing-policy/{region_code}/{year}", body.model_dump()
    )
    return StaffingPolicyOut(**(await staffing_policy(session, region_code, year)).as_dict())


@router.get(
    "/staffing-policies/{region_code}/{year}",
    summary="生效的配备参数 the staffing parameters in force for a region and year (walked up the tree)",
    response_model=StaffingPolicyOut,
    responses=problem_responses(401, 403, 404),
)
async def get_staffing_policy(
    region_code: RegionPath, year: YearPath, principal: Reader, session: SessionDep
) -> StaffingPolicyOut:
    await visible_region(session, principal, region_code)
    return StaffingPolicyOut(**(await staffing_policy(session, region_code, year)).as_dict())
