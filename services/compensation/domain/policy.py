"""Pay policy parameters (C1–C11): a profile per region and year, presets for Wenzhou and Taizhou.

Every number a county may set is here as data with its source; a county's profile overrides its city's,
which overrides the preset. Parameters the documents leave open and for which no figure was published
(the bonus coefficients per grade) have no preset: the county must set them before the bonus is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

D = Decimal


@dataclass(frozen=True)
class PayPolicy:
    preset: str = "general"
    target_method: str = "disposable_income"  # C2 (Wenzhou) | post_floors (C3, Taizhou)
    multiplier: Decimal = D("1.2")  # C2: 1.2 × last year's urban per-capita disposable income …
    multiplier_max: Decimal = D("1.8")  # C2: … allowed up to 1.8
    post_floors: dict[str, Decimal] = field(
        default_factory=lambda: {"chief": D("1.3"), "deputy": D("1.1"), "staff": D("1.0")}
    )  # C3
    base_share: Decimal = D("0.70")  # C5: base 70 %, performance bonus 30 %
    certificate_allowances: dict[str, Decimal] = field(
        default_factory=lambda: {"senior": D(600), "social_worker": D(400), "assistant": D(200)}  # C8 (monthly)
    )
    grade_step_years: int = 3  # C7
    joining_month: str = "full"  # C6: pay starts in the month of taking the post (full month) | prorate
    bonus_coefficients: dict[str, Decimal] | None = None  # C5: the county's; no preset
    recuperation_per_day: Decimal = D(400)  # C10
    recuperation_days: int = 5  # C10
    recuperation_per_year: Decimal = D(2000)  # C10
    recuperation_every_years: int = 2  # C10
    # Social insurance and housing fund (C9: paid in full): the worker's and the employer's rates.
    employee_rates: dict[str, Decimal] = field(
        default_factory=lambda: {
            "pension": D("0.08"),
            "medical": D("0.02"),
            "unemployment": D("0.005"),
            "housing_fund": D("0.12"),
        }
    )
    employer_rates: dict[str, Decimal] = field(
        default_factory=lambda: {
            "pension": D("0.16"),
            "medical": D("0.095"),
            "unemployment": D("0.005"),
            "injury": D("0.002"),
            "housing_fund": D("0.12"),
        }
    )
    contribution_base_min: Decimal = D("4462")  # 浙江 2025 缴费基数下限 (example; set per year)
    contribution_base_max: Decimal = D("24930")
    monthly_standard_deduction: Decimal = D(5000)  # 个人所得税 基本减除费用

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


GENERAL = PayPolicy()
PRESETS: dict[str, PayPolicy] = {
    "wenzhou": replace(GENERAL, preset="wenzhou", target_method="disposable_income"),
    "taizhou": replace(
        GENERAL,
        preset="taizhou",
        target_method="post_floors",
        certificate_allowances={"senior": D(600), "social_worker": D(450), "assistant": D(300)},  # C8 Taizhou 300–600
    ),
}
CITY_PRESETS = {"3303": "wenzhou", "3310": "taizhou"}
DECIMAL_FIELDS = {f.name for f in fields(PayPolicy) if f.type in ("Decimal",)}


def preset_for(region_code: str) -> PayPolicy:
    return PRESETS.get(CITY_PRESETS.get(region_code[:4], ""), GENERAL)


def with_overrides(base: PayPolicy, preset: str | None, parameters: dict[str, Any]) -> PayPolicy:
    policy = PRESETS.get(preset, base) if preset else base
    known = {f.name: f for f in fields(PayPolicy)}
    values: dict[str, Any] = {}
    for key, value in parameters.items():
        if key not in known:
            continue
        kind = known[key].type
        if "dict" in str(kind) and isinstance(value, dict):
            values[key] = {k: D(str(v)) for k, v in value.items()}
        elif "Decimal" in str(kind):
            values[key] = D(str(value))
        else:
            values[key] = value
    return replace(policy, **values)
