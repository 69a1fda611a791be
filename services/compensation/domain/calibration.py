"""Calibrating a county's 三岗十八级 scale (C4) on its actual workforce so that the projected average meets the
target: C2's overall average (Wenzhou: 1.2–1.8 × last year's urban disposable income) or C3's floor per post
(Taizhou). Relative cells are ``post factor × (1 + step)^(grade − 1)``; the whole scale is then scaled so the
workforce's weighted mean lands on the target. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from shared.money import CENT

GRADES = range(1, 19)
Cell = tuple[str, int]  # (post, grade)


def relative_cell(post_factors: Mapping[str, Decimal], step: Decimal, post: str, grade: int) -> Decimal:
    return post_factors[post] * (1 + step) ** (grade - 1)


def _weighted_mean(values: Mapping[Cell, Decimal], counts: Mapping[Cell, int]) -> Decimal:
    return sum((values[k] * n for k, n in counts.items()), Decimal(0)) / sum(counts.values())


def calibrate(
    counts: Counter[Cell],
    post_factors: Mapping[str, Decimal],
    step: Decimal,
    *,
    target_average: Decimal | None = None,
    post_floors: Mapping[str, Decimal] | None = None,
) -> dict[Cell, Decimal]:
    """Every cell of the posts calibrated, to the cent: with ``post_floors`` (C3) each post's workforce average
    meets its floor; otherwise (C2) the whole workforce's average meets ``target_average``."""
    relative = {
        (post, grade): relative_cell(post_factors, step, post, grade) for post in post_factors for grade in GRADES
    }
    scale: dict[Cell, Decimal] = {}
    if post_floors is not None:
        for post, floor in post_floors.items():
            held = Counter({k: n for k, n in counts.items() if k[0] == post})
            mean = _weighted_mean(relative, held) if held else relative[(post, 1)]
            for grade in GRADES:
                scale[(post, grade)] = (floor * relative[(post, grade)] / mean).quantize(CENT, rounding=ROUND_HALF_UP)
        return scale
    if target_average is None:
        raise ValueError("calibrate needs target_average (C2) or post_floors (C3)")
    mean = _weighted_mean(relative, counts)
    for cell, value in relative.items():
        scale[cell] = (target_average * value / mean).quantize(CENT, rounding=ROUND_HALF_UP)
    return scale


def projected_averages(scale: Mapping[Cell, Decimal], counts: Counter[Cell]) -> dict[str, Decimal]:
    """The workforce's average annual pay on ``scale``, per post held and ``all``, to the cent."""
    projected = {
        post: _weighted_mean(scale, Counter({k: n for k, n in counts.items() if k[0] == post})).quantize(CENT)
        for post in {k[0] for k in counts}
    }
    projected["all"] = _weighted_mean(scale, counts).quantize(CENT)
    return projected
