"""Policy profiles (C1–C11), reference statistics, targets (C2, C3) and pay scales (C4) with calibration."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation import statistics
from services.compensation.domain.profiles import merge_patch, profile_errors
from services.compensation.models import (
    PayScaleCell,
    PolicyProfile,
    PostPeriod,
    WorkerProjection,
    events,
)
from services.compensation.policies import policy_for
from services.compensation.schemas import (
    CalibrationIn,
    PayPolicyOut,
    ProfileIn,
    ProfilePatch,
    ScaleCellIn,
    ScaleIn,
    ScaleOut,
    StatisticIn,
    StatisticKind,
    TargetOut,
)
from services.compensation.targets import compute_target
from shared.auth import Principal
from shared.db import SessionDep
from shared.dependencies import Admin, Reader
from shared.events import record_event
from shared.i18n import Message
from shared.inputs import YearPath
from shared.problems import LocalizedFieldError, NotFound, UnprocessableContent, UnsupportedMediaType, problem_responses
from shared.projections import NOT_ON_ROLL
from shared.regions import CountyCode, RegionCode, contains
from shared.scoping import ADMIN_WRITE_ROLES, NO_SUCH_REGION, require_write, sees_region

router = APIRouter(prefix="/v1", tags=["policy"], responses=problem_responses(401, 403, 404))
CENT = Decimal("0.01")
RegionPath = Annotated[RegionCode, Path()]
Year = YearPath


def _visible(principal: Principal, region: str) -> None:
    """A policy is read in the caller's region, in its county, and up its ancestors (whose policy it inherits).

    Not across: a county does not read a sibling county's scale or targets (AC1, ``docs/security.md``).
    """
    if not sees_region(principal, region) and not any(
        region.startswith(r[:6]) or contains(region, r) for r in principal.regions()
    ):
        raise NotFound(NO_SUCH_REGION, code=region)


MERGE_PATCH = "application/merge-patch+json"


def _check_profile(body: ProfileIn) -> None:
    """422 naming every bad member and its rule (the same checks for PUT and for the result of a PATCH)."""
    errors = profile_errors(body.parameters, body.sources)
    if not errors:
        return
    rules = {e.rule for e in errors}
    raise UnprocessableContent(
        Message("政策参数不正确：{fields}", "Invalid policy parameters: {fields}"),
        rule=rules.pop() if len(rules) == 1 else None,
        errors=[
            LocalizedFieldError("/body" + e.pointer, e.field, Message(e.zh, e.en), type="rule", rule=e.rule)
            for e in errors
        ],
        fields=", ".join(dict.fromkeys(e.field for e in errors)),
    )


async def _store_profile(session: AsyncSession, region_code: str, year: int, body: ProfileIn) -> PayPolicyOut:
    _check_profile(body)
    statement = insert(PolicyProfile).values(
        region_code=region_code,
        year=year,
        preset=body.preset.value if body.preset else None,
        parameters=body.parameters,
        sources=body.sources,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PolicyProfile.region_code, PolicyProfile.year],
            set_={
                "preset": statement.excluded.preset,
                "parameters": statement.excluded.parameters,
                "sources": statement.excluded.sources,
            },
        )
    )
    await record_event(
        session, events, "policy_profile.set", f"policy/{region_code}/{year}", body.model_dump(mode="json")
    )
    return PayPolicyOut(**(await policy_for(session, region_code, year)).as_dict())


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
async def set_profile(
    region_code: RegionCode, year: Year, body: ProfileIn, principal: Admin, session: SessionDep
) -> PayPolicyOut:
    require_write(principal, region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    return await _store_profile(session, region_code, year, body)


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
    region_code: RegionCode,
    year: Year,
    body: Annotated[ProfilePatch, Body(media_type=MERGE_PATCH)],
    principal: Admin,
    session: SessionDep,
) -> PayPolicyOut:
    require_write(principal, region_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    row = await session.get(PolicyProfile, (region_code, year), with_for_update=True)
    if row is None:
        raise NotFound(
            Message("{code} 无 {year} 年政策参数，请先以 PUT 设定", "No {year} profile for {code}; create it with PUT"),
            code=region_code,
            year=year,
        )
    stored: dict[str, Any] = {"parameters": row.parameters, "sources": row.sources}
    if row.preset:
        stored["preset"] = row.preset
    merged = merge_patch(stored, body.model_dump(mode="json", exclude_unset=True))
    document = ProfileIn.model_validate(
        {
            "preset": merged.get("preset"),
            "parameters": merged.get("parameters", {}),
            "sources": merged.get("sources", {}),
        }
    )
    return await _store_profile(session, region_code, year, document)


@router.get(
    "/policy-profiles/{region_code}/{year}",
    summary="生效的薪酬政策 the pay policy in force (walked up the region tree over the city's preset)",
)
async def get_profile(region_code: RegionPath, year: Year, principal: Reader, session: SessionDep) -> PayPolicyOut:
    _visible(principal, region_code)
    return PayPolicyOut(**(await policy_for(session, region_code, year)).as_dict())


@router.put(
    "/reference-statistics/{region_code}/{year}/{kind}",
    summary="录入统计数据 a statistic the targets use (C2 disposable income, C3 average wage, last year's actual pay)",
)
async def set_statistic(
    region_code: RegionPath, year: Year, kind: StatisticKind, body: StatisticIn, principal: Admin, session: SessionDep
) -> dict[str, str]:
    await statistics.set_statistic(session, principal, region_code, year, kind, body)
    return {"region_code": region_code, "year": str(year), "kind": kind.value, "value": str(body.value)}


@router.get(
    "/targets/{region_code}/{year}",
    summary="薪酬目标 the pay target of a region for a year (C2 or C3)",
)
async def get_target(region_code: RegionPath, year: Year, principal: Reader, session: SessionDep) -> TargetOut:
    _visible(principal, region_code)
    return await compute_target(session, region_code, year, await policy_for(session, region_code, year))


async def _scale_out(session: AsyncSession, county: str, year: int, **extra: Any) -> ScaleOut:
    cells = (
        await session.scalars(
            select(PayScaleCell)
            .where(PayScaleCell.region_code == county, PayScaleCell.year == year)
            .order_by(PayScaleCell.post, PayScaleCell.grade)
        )
    ).all()
    return ScaleOut(
        region_code=county,
        year=year,
        cells=[ScaleCellIn(post=c.post, grade=c.grade, annual_amount=c.annual_amount) for c in cells],
        **extra,
    )


async def _store_cells(session: AsyncSession, county: str, year: int, cells: list[ScaleCellIn]) -> None:
    rows = [
        {"region_code": county, "year": year, "post": c.post.value, "grade": c.grade, "annual_amount": c.annual_amount}
        for c in cells
    ]
    statement = insert(PayScaleCell).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PayScaleCell.region_code, PayScaleCell.year, PayScaleCell.post, PayScaleCell.grade],
            set_={"annual_amount": statement.excluded.annual_amount},
        )
    )
    await record_event(
        session,
        events,
        "pay_scale.set",
        f"pay-scale/{county}/{year}",
        {"county_code": county, "year": year, "cells": len(rows)},
    )


@router.put(
    "/pay-scales/{county_code}/{year}",
    summary="薪酬表 set cells of a county's 三岗十八级 scale (C4)",
)
async def set_scale(
    county_code: Annotated[CountyCode, Path()],
    year: Year,
    body: ScaleIn,
    principal: Admin,
    session: SessionDep,
) -> ScaleOut:
    require_write(principal, county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    await _store_cells(session, county_code, year, body.cells)
    return await _scale_out(session, county_code, year)


@router.get(
    "/pay-scales/{county_code}/{year}",
    summary="查看薪酬表 a county's scale (C4)",
)
async def get_scale(
    county_code: Annotated[CountyCode, Path()], year: Year, principal: Reader, session: SessionDep
) -> ScaleOut:
    _visible(principal, county_code)
    return await _scale_out(session, county_code, year)


async def workforce(session: AsyncSession, county: str, on: datetime) -> Counter[tuple[str, int]]:
    """(post, grade) → workers holding it on the date: the actual workforce the scale is calibrated on."""
    day = on.date()
    rows = await session.execute(
        select(PostPeriod.post, PostPeriod.grade)
        .join(WorkerProjection, WorkerProjection.worker_id == PostPeriod.worker_id)
        .where(
            WorkerProjection.community_path.startswith(county),
            WorkerProjection.status.not_in(NOT_ON_ROLL),
            PostPeriod.start_date <= day,
            or_(PostPeriod.end_date.is_(None), and_(PostPeriod.end_date > day)),
        )
    )
    return Counter((post, grade) for post, grade in rows.all())


@router.post(
    "/pay-scales/{county_code}/{year}/calibrate",
    summary="校准薪酬表 compute the scale from relative steps so that the workforce's projected average meets C2 / C3",
)
async def calibrate_scale(
    county_code: Annotated[CountyCode, Path()],
    year: Year,
    body: CalibrationIn,
    principal: Admin,
    session: SessionDep,
) -> ScaleOut:
    require_write(principal, county_code, NO_SUCH_REGION, ADMIN_WRITE_ROLES)
    policy = await policy_for(session, county_code, year)
    target = await compute_target(session, county_code, year, policy)
    counts = await workforce(session, county_code, datetime.now(UTC))
    if not counts:
        raise UnprocessableContent(
            Message("该县无在岗社工，无法校准", "No workers in post in the county to calibrate on"), rule="C4"
        )

    def relative(post: str, grade: int) -> Decimal:
        return body.post_factors[post] * (1 + body.step) ** (grade - 1)  # type: ignore[index]

    scale: dict[tuple[str, int], Decimal] = {}
    if target.post_floors is not None:  # C3: each post's average meets its floor
        for post, floor in target.post_floors.items():
            held = {k: n for k, n in counts.items() if k[0] == post}
            mean = (
                sum((relative(*k) * n for k, n in held.items()), Decimal(0)) / sum(held.values())
                if held
                else relative(post, 1)
            )
            for grade in range(1, 19):
                scale[(post, grade)] = (floor * relative(post, grade) / mean).quantize(CENT, rounding=ROUND_HALF_UP)
    else:  # C2: the overall average meets the target
        total = sum(counts.values())
        mean = sum((relative(*k) * n for k, n in counts.items()), Decimal(0)) / total
        assert target.target_average is not None
        for post in body.post_factors:
            for grade in range(1, 19):
                scale[(post.value, grade)] = (target.target_average * relative(post.value, grade) / mean).quantize(
                    CENT, rounding=ROUND_HALF_UP
                )
    cells = [
        ScaleCellIn(post=post, grade=grade, annual_amount=amount) for (post, grade), amount in sorted(scale.items())
    ]
    await _store_cells(session, county_code, year, cells)
    projected: dict[str, Decimal] = {}
    for post in {k[0] for k in counts}:
        held = {k: n for k, n in counts.items() if k[0] == post}
        projected[post] = (sum((scale[k] * n for k, n in held.items()), Decimal(0)) / sum(held.values())).quantize(CENT)
    projected["all"] = (sum((scale[k] * n for k, n in counts.items()), Decimal(0)) / sum(counts.values())).quantize(
        CENT
    )
    return await _scale_out(session, county_code, year, projected_average=projected, targets=target)
