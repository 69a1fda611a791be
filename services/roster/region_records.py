"""Recording the division tree (GB/T 2260 codes; communities with kind and households, S1/S3), county
quotas (S5) and staffing parameters per region and year (S1–S8, P2–P3): use cases, one transaction each.
The rules they apply are in ``domain.staffing`` and ``shared.regions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.domain.staffing import extra_staff_problem
from services.roster.domain.staffing_policy import StaffingPolicy
from services.roster.errors import invalid
from services.roster.models import Quota, Region, StaffingPolicyOverride, events
from services.roster.quota_use import quota_used
from services.roster.regions import staffing_policy, visible_region
from services.roster.schemas import QuotaIn, QuotaOut, RegionCreate, RegionPatch
from shared.auth import Principal
from shared.contracts import QuotaSet
from shared.events import record_event
from shared.i18n import Message
from shared.problems import Conflict, NotFound
from shared.regions import RegionLevel, child_code_problem, level, normalise
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, require_write, sees_region
from shared.writes import added


def check_extra_staff(kind: str | None, extra: int, approval: str | None) -> None:
    """S3 (``domain.staffing.extra_staff_problem``), as a 422 naming the field."""
    violation = extra_staff_problem(kind, extra, approval)
    if violation is not None:
        raise invalid(violation.field, violation.zh, violation.en, violation.rule)


async def create_region(session: AsyncSession, principal: Principal, body: RegionCreate) -> Region:
    region_level = level(body.code)
    if body.parent_code is None:
        if region_level != RegionLevel.province:
            raise invalid("parent_code", "须指定上级区划", "a parent is required below province level")
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
    await added(session, region, Conflict(Message("区划已存在：{code}", "Region exists: {code}"), code=body.code))
    await record_event(session, events, "region.created", f"region/{region.code}", body.model_dump(mode="json"))
    return region


async def change_region(session: AsyncSession, region: Region, body: RegionPatch) -> Region:
    """``region`` is locked and its version checked by the caller."""
    changes = body.model_dump(exclude_unset=True, mode="json")
    if "kind" in changes and region.level != RegionLevel.community:
        raise invalid("kind", "仅社区有类型", "only communities have a kind")
    for field, value in changes.items():
        setattr(region, field, value)
    check_extra_staff(region.kind, region.extra_staff, region.extra_staff_approval)
    region.version += 1
    region.updated_at = datetime.now(UTC)
    await session.flush()
    await record_event(
        session, events, "region.updated", f"region/{region.code}", changes | {"version": region.version}
    )
    return region


async def set_quota(
    session: AsyncSession, principal: Principal, county_code: str, year: int, body: QuotaIn
) -> QuotaOut:
    """S5: the county's approved headcount for a year."""
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
    return await quota_out(session, quota)


async def read_quota(session: AsyncSession, principal: Principal, county_code: str, year: int) -> QuotaOut:
    if not sees_region(principal, county_code):
        raise NotFound(NO_SUCH_REGION, code=county_code)
    quota = await session.get(Quota, (county_code, year))
    if quota is None:
        raise NotFound(
            Message("{code} 未核定 {year} 年员额", "No {year} quota for {code}"), code=county_code, year=year
        )
    return await quota_out(session, quota)


async def quota_out(session: AsyncSession, quota: Quota) -> QuotaOut:
    return QuotaOut(
        county_code=quota.county_code,
        year=quota.year,
        headcount=quota.headcount,
        used=await quota_used(session, quota.county_code, quota.year),
        approval=quota.approval,
    )


async def set_staffing_policy(
    session: AsyncSession, principal: Principal, region_code: str, year: int, parameters: dict[str, Any], source: str
) -> StaffingPolicy:
    """Override staffing parameters for a region and year (S1–S8, P2–P3); what is not set is inherited."""
    await visible_region(session, principal, region_code)
    require_write(principal, region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    unknown = sorted(set(parameters) - set(StaffingPolicy.__dataclass_fields__) - {"source"})
    if unknown:
        raise invalid("parameters", f"未知参数 {unknown}", f"unknown parameters {unknown}")
    row = await session.get(StaffingPolicyOverride, (region_code, year), with_for_update=True)
    if row is None:
        session.add(StaffingPolicyOverride(region_code=region_code, year=year, parameters=parameters, source=source))
    else:
        row.parameters, row.source = parameters, source
    await session.flush()
    await record_event(
        session,
        events,
        "staffing_policy.set",
        f"staffing-policy/{region_code}/{year}",
        {"parameters": parameters, "source": source},
    )
    return await staffing_policy(session, region_code, year)
