"""A county's 三岗十八级 pay scale (C4): its cells set by hand or calibrated on the actual workforce against the
policy target (C2 or C3). One transaction per use case; the calibration's arithmetic is pure
(``domain/calibration.py``)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.calibration import calibrate, projected_averages
from services.compensation.models import PayScaleCell, PostPeriod, WorkerProjection, events
from services.compensation.policies import policy_for
from services.compensation.schemas import CalibrationIn, ScaleCellIn, ScaleOut
from services.compensation.targets import compute_target
from shared.events import record_event
from shared.i18n import Message
from shared.problems import LocalizedFieldError, UnprocessableContent
from shared.projections import NOT_ON_ROLL
from shared.vocabulary import Post
from shared.writes import upsert


async def scale_out(session: AsyncSession, county: str, year: int, **extra: Any) -> ScaleOut:
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
        cells=[ScaleCellIn.model_validate(c, from_attributes=True) for c in cells],
        **extra,
    )


async def set_cells(session: AsyncSession, county: str, year: int, cells: list[ScaleCellIn]) -> ScaleOut:
    """Upsert the cells (others kept) and publish ``pay_scale.set``."""
    rows = [
        {"region_code": county, "year": year, "post": c.post.value, "grade": c.grade, "annual_amount": c.annual_amount}
        for c in cells
    ]
    await upsert(session, PayScaleCell, rows, ["region_code", "year", "post", "grade"])
    await record_event(
        session,
        events,
        "pay_scale.set",
        f"pay-scale/{county}/{year}",
        {"county_code": county, "year": year, "cells": len(rows)},
    )
    return await scale_out(session, county, year)


def posts_held(county: str, day: date) -> Select[str, int, str | None]:
    """Each post held in ``county`` on ``day`` by a worker on the roll: (post, grade, the worker's
    certificate level), the workforce a scale is calibrated on (C4) and budgeted for (C11)."""
    return (
        select(PostPeriod.post, PostPeriod.grade, WorkerProjection.certificate_level)
        .join(WorkerProjection, WorkerProjection.worker_id == PostPeriod.worker_id)
        .where(
            WorkerProjection.community_path.startswith(county),
            WorkerProjection.status.not_in(NOT_ON_ROLL),
            PostPeriod.start_date <= day,
            or_(PostPeriod.end_date.is_(None), PostPeriod.end_date > day),
        )
    )


async def workforce(session: AsyncSession, county: str, day: date) -> Counter[tuple[str, int]]:
    """(post, grade) → workers holding it on ``day``: the actual workforce the scale is calibrated on."""
    rows = await session.execute(posts_held(county, day))
    return Counter((post, grade) for post, grade, _ in rows.all())


def _check_factors(body: CalibrationIn) -> None:
    """422 unless every post has a positive factor (C4: the scale has all three posts)."""
    errors = [
        LocalizedFieldError(
            f"/body/post_factors/{post.value}",
            f"post_factors.{post.value}",
            Message("须为每个岗位给出大于 0 的系数", "Give every post a factor above 0"),
            rule="C4",
        )
        for post in Post
        if body.post_factors.get(post, 0) <= 0
    ]
    if errors:
        raise UnprocessableContent(Message("岗位系数不完整", "Post factors incomplete"), rule="C4", errors=errors)


async def calibrate_scale(session: AsyncSession, county: str, year: int, body: CalibrationIn, today: date) -> ScaleOut:
    """Cells computed from relative steps so that the workforce on ``today`` averages the target (C2 / C3)."""
    _check_factors(body)
    policy = await policy_for(session, county, year)
    target = await compute_target(session, county, year, policy)
    counts = await workforce(session, county, today)
    if not counts:
        raise UnprocessableContent(
            Message("该县无在岗社工，无法校准", "No workers in post in the county to calibrate on"), rule="C4"
        )
    scale = calibrate(
        counts,
        {post.value: factor for post, factor in body.post_factors.items()},
        body.step,
        target_average=target.target_average,
        post_floors=target.post_floors,
    )
    cells = [
        ScaleCellIn(post=Post(post), grade=grade, annual_amount=amount)
        for (post, grade), amount in sorted(scale.items())
    ]
    await set_cells(session, county, year, cells)
    return await scale_out(session, county, year, projected_average=projected_averages(scale, counts), targets=target)
