"""Policy profiles (C1–C11), reference statistics, targets (C2, C3) and pay scales (C4) with calibration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request

from services.compensation import pay_scales, policy_profiles, statistics
from services.compensation.schemas import (
    CalibrationIn,
    PayPolicyOut,
    ProfileIn,
    ProfilePatch,
    ScaleIn,
    ScaleOut,
    StatisticIn,
    StatisticKind,
    TargetOut,
)
from services.compensation.targets import target_in_force
from shared.business_time import business_today
from shared.db import SessionDep
from shared.dependencies import Admin, Reader, region_to_change
from shared.i18n import Message
from shared.inputs import YearPath
from shared.problems import UnsupportedMediaType, problem_responses
from shared.regions import CountyCode, RegionCode

router = APIRouter(prefix="/v1", tags=["policy"], responses=problem_responses(401, 403, 404))
RegionPath = Annotated[RegionCode, Path()]
# The region (county) whose pay policy (scale) a county-level admin changes: 404 outside, 403 for a reader.
RegionToChange = Annotated[str, region_to_change("region_code", RegionCode)]
CountyToChange = Annotated[str, region_to_change("county_code", CountyCode)]
Year = YearPath


MERGE_PATCH = "application/merge-patch+json"


@router.put(
    "/policy-profiles/{region_code}/{year}",
    summary="设定薪酬政策参数 replace a region's pay parameters for a year (C1–C11), each with its source",
    description=(
        "整体替换 the whole profile: `parameters` and `sources` are required, and overrides not in the document "
        "are removed. To change some overrides only, PATCH with a JSON Merge Patch. Checked: every parameter "
        "known and sourced, C2 multiplier 1.2–1.8, maps complete (C3 posts, C5 grades, C8 levels, C9 every "
        "contribution, rates between 0 and 1), C9 floor ≤ cap."
    ),
)
async def set_profile(region_code: RegionToChange, year: Year, body: ProfileIn, session: SessionDep) -> PayPolicyOut:
    return await policy_profiles.replace_profile(session, region_code, year, body)


def merge_patch_body(request: Request) -> None:
    """415 unless the body is a JSON Merge Patch (RFC 7396 names it by its media type)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MERGE_PATCH:
        raise UnsupportedMediaType(
            Message("请以 {m} 发送合并补丁", "Send the merge patch as {m}"),
            headers={"Accept-Patch": MERGE_PATCH},
            m=MERGE_PATCH,
        )


@router.patch(
    "/policy-profiles/{region_code}/{year}",
    summary="修改部分薪酬政策参数 change some overrides of a region's profile (JSON Merge Patch, RFC 7396)",
    description=(
        "合并补丁 `application/merge-patch+json` (RFC 7396): members sent replace, `null` removes (an override, "
        "its source, the preset), maps merge key by key; overrides not mentioned are kept. The result is checked "
        "by the same rules as PUT. The profile must exist (create it with PUT)."
    ),
    responses=problem_responses(415),
    dependencies=[Depends(merge_patch_body)],
)
async def patch_profile(
    region_code: RegionToChange,
    year: Year,
    body: Annotated[ProfilePatch, Body(media_type=MERGE_PATCH)],
    session: SessionDep,
) -> PayPolicyOut:
    return await policy_profiles.patch_profile(session, region_code, year, body)


@router.get(
    "/policy-profiles/{region_code}/{year}",
    summary="生效的薪酬政策 the pay policy in force (walked up the region tree over the city's preset)",
)
async def get_profile(region_code: RegionPath, year: Year, principal: Reader, session: SessionDep) -> PayPolicyOut:
    policy_profiles.require_policy_reader(principal, region_code)
    return await policy_profiles.policy_in_force(session, region_code, year)


@router.put(
    "/reference-statistics/{region_code}/{year}/{kind}",
    summary="录入统计数据 a statistic the targets use (C2 disposable income, C3 average wage, last year's actual pay)",
)
async def set_statistic(
    region_code: RegionPath, year: Year, kind: StatisticKind, body: StatisticIn, principal: Admin, session: SessionDep
) -> dict[str, str]:
    await statistics.set_statistic(session, principal, region_code, year, kind, body)
    return {"region_code": region_code, "year": str(year), "kind": kind.value, "value": str(body.value)}


@router.get("/targets/{region_code}/{year}", summary="薪酬目标 the pay target of a region for a year (C2 or C3)")
async def get_target(region_code: RegionPath, year: Year, principal: Reader, session: SessionDep) -> TargetOut:
    policy_profiles.require_policy_reader(principal, region_code)
    return await target_in_force(session, region_code, year)


@router.put("/pay-scales/{county_code}/{year}", summary="薪酬表 set cells of a county's 三岗十八级 scale (C4)")
async def set_scale(county_code: CountyToChange, year: Year, body: ScaleIn, session: SessionDep) -> ScaleOut:
    return await pay_scales.set_cells(session, county_code, year, body.cells)


@router.get("/pay-scales/{county_code}/{year}", summary="查看薪酬表 a county's scale (C4)")
async def get_scale(county_code: CountyCode, year: Year, principal: Reader, session: SessionDep) -> ScaleOut:
    policy_profiles.require_policy_reader(principal, county_code)
    return await pay_scales.scale_out(session, county_code, year)


@router.post(
    "/pay-scales/{county_code}/{year}/calibrate",
    summary="校准薪酬表 compute the scale from relative steps so that the workforce's projected average meets C2 / C3",
)
async def calibrate_scale(
    county_code: CountyToChange, year: Year, body: CalibrationIn, session: SessionDep
) -> ScaleOut:
    return await pay_scales.calibrate_scale(session, county_code, year, body, business_today())
