"""Calibrating the 三岗十八级 scale (C4) on a workforce so that its average meets C2 (Wenzhou: 1.2 × last year's
urban per-capita disposable income) or C3 (Taizhou: each post's floor, 1.3 / 1.1 / 1.0 × the average wage)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from services.compensation.domain.calibration import GRADES, calibrate, projected_averages

FACTORS = {"chief": D("1.3"), "deputy": D("1.1"), "staff": D("1.0")}
WORKFORCE = Counter({("chief", 10): 1, ("deputy", 6): 1, ("staff", 3): 1, ("staff", 4): 1, ("staff", 5): 1})


def test_c2_the_workforce_average_lands_on_1_2_times_75000() -> None:
    target = D("1.2") * D("75000")  # C2's lowest multiplier on a disposable income of 75,000
    scale = calibrate(WORKFORCE, FACTORS, D("0.04"), target_average=target)
    assert len(scale) == 3 * 18  # every cell of the three posts
    assert abs(projected_averages(scale, WORKFORCE)["all"] - D("90000.00")) <= D("0.05")  # cells round to cents
    assert all(v == v.quantize(D("0.01")) for v in scale.values())
    for post in FACTORS:  # a higher grade is paid more, by the step
        assert all(scale[(post, g)] < scale[(post, g + 1)] for g in GRADES if g < 18)
    assert scale[("chief", 1)] > scale[("deputy", 1)] > scale[("staff", 1)]


def test_c3_each_posts_average_meets_its_floor() -> None:
    wage = D("100000")  # Taizhou's average wage of all employed persons, last year
    floors = {"chief": D("1.3") * wage, "deputy": D("1.1") * wage, "staff": D("1.0") * wage}
    scale = calibrate(WORKFORCE, FACTORS, D("0.04"), post_floors=floors)
    projected = projected_averages(scale, WORKFORCE)
    for post, floor in floors.items():
        assert abs(projected[post] - floor) <= D("0.05")


@settings(max_examples=50, deadline=None)
@given(
    cells=st.dictionaries(
        st.tuples(st.sampled_from(sorted(FACTORS)), st.integers(1, 18)), st.integers(1, 40), min_size=1, max_size=12
    ),
    step=st.decimals(D("0.01"), D("0.10"), places=2),
    target=st.decimals(D("50000"), D("200000"), places=2),
)
def test_c2_any_workforce_averages_the_target_within_a_cent_per_cell(
    cells: dict[tuple[str, int], int], step: D, target: D
) -> None:
    workforce = Counter(cells)
    scale = calibrate(workforce, FACTORS, step, target_average=target)
    assert abs(projected_averages(scale, workforce)["all"] - target) <= D("0.01")
