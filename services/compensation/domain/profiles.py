"""A policy profile as a document (preset, parameter overrides, their sources): its rules, and JSON Merge
Patch (RFC 7396) on it. ``PUT`` replaces the whole document, ``PATCH`` merges a patch into the stored
one; both results are checked by :func:`profile_errors`, so a patch cannot make what a ``PUT`` refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from services.compensation.domain.policy import PayPolicy

_FIELDS = {f.name: str(f.type) for f in fields(PayPolicy)}
# Parameters that are maps must name every key: the override replaces the preset's whole map, so a map
# without, say, the housing fund would silently stop paying it (C9), or leave a grade without a bonus
# coefficient (C5).
COMPLETE_MAPS: dict[str, tuple[tuple[str, ...], str]] = {
    "post_floors": (("chief", "deputy", "staff"), "C3"),
    "certificate_allowances": (("senior", "social_worker", "assistant"), "C8"),
    "bonus_coefficients": (("excellent", "competent", "basically_competent", "incompetent"), "C5"),
    "employee_rates": (("pension", "medical", "unemployment", "housing_fund"), "C9"),
    "employer_rates": (("pension", "medical", "unemployment", "injury", "housing_fund"), "C9"),
}
RULE_OF = {
    "target_method": "C2",
    "multiplier": "C2",
    "multiplier_max": "C2",
    "base_share": "C5",
    "grade_step_years": "C7",
    "joining_month": "C6",
    "recuperation_per_day": "C10",
    "recuperation_days": "C10",
    "recuperation_per_year": "C10",
    "recuperation_every_years": "C10",
    "contribution_base_min": "C9",
    "contribution_base_max": "C9",
} | {name: rule for name, (_, rule) in COMPLETE_MAPS.items()}
CHOICES = {"target_method": ("disposable_income", "post_floors"), "joining_month": ("full", "prorate")}
MULTIPLIER_RANGE = (Decimal("1.2"), Decimal("1.8"))  # C2


@dataclass(frozen=True)
class ProfileError:
    """One bad member of a profile document: its JSON pointer, the rule, and why in both languages."""

    pointer: str
    field: str
    zh: str
    en: str
    rule: str | None = None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge member by member, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _parameter_errors(name: str, value: Any) -> list[ProfileError]:
    pointer, rule, kind = f"/parameters/{name}", RULE_OF.get(name), _FIELDS[name]

    def error(zh: str, en: str, at: str = pointer) -> ProfileError:
        return ProfileError(at, name, zh, en, rule)

    if name in COMPLETE_MAPS:
        keys, _ = COMPLETE_MAPS[name]
        if not isinstance(value, dict):
            return [error("应为 JSON 对象", "Must be a JSON object")]
        found: list[ProfileError] = []
        missing = [k for k in keys if k not in value]
        unknown = sorted(set(value) - set(keys))
        if missing:
            found.append(
                error(f"须列出全部：缺少 {', '.join(missing)}", f"Must list every key: {', '.join(missing)} missing")
            )
        if unknown:
            found.append(error(f"未知的键：{', '.join(unknown)}", f"Unknown keys: {', '.join(unknown)}"))
        for key in keys:
            number = _decimal(value.get(key)) if key in value else Decimal(0)
            at = f"{pointer}/{key}"
            if number is None or number < 0:
                found.append(error("应为非负数", "Must be a non-negative number", at))
            elif name.endswith("_rates") and not 0 < number < 1:
                found.append(
                    error(
                        "缴费比例应在 0 与 1 之间（足额缴纳）",
                        "A contribution rate lies between 0 and 1 (paid in full)",
                        at,
                    )
                )
        return found
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return [error("应为正整数", "Must be a positive integer")]
        return []
    if kind == "Decimal":
        number = _decimal(value)
        if number is None or number <= 0:
            return [error("应为正数", "Must be a positive number")]
        if name == "multiplier" and not MULTIPLIER_RANGE[0] <= number <= MULTIPLIER_RANGE[1]:
            return [error("倍数应在1.2–1.8之间", "The multiplier must lie in 1.2–1.8")]
        if name == "base_share" and number > 1:
            return [error("基础工资占比不超过 1", "The base share is at most 1")]
        return []
    if name in CHOICES and value not in CHOICES[name]:
        return [error(f"应为 {' 或 '.join(CHOICES[name])}", f"Must be {' or '.join(CHOICES[name])}")]
    return []


def profile_errors(parameters: dict[str, Any], sources: dict[str, str]) -> list[ProfileError]:
    """Every problem of a profile's overrides: unknown parameters, parameters without a source, values
    of the wrong kind or outside their rule (C2 multiplier 1.2–1.8, C9 complete contribution rates, …)."""
    found: list[ProfileError] = []
    for name in sorted(parameters):
        pointer = f"/parameters/{name}"
        if name not in _FIELDS or name == "preset":
            found.append(ProfileError(pointer, name, "未知参数", "Unknown parameter"))
            continue
        if name not in sources:
            found.append(ProfileError(f"/sources/{name}", name, "参数缺少来源", "The parameter has no source"))
        found.extend(_parameter_errors(name, parameters[name]))
    low, high = (_decimal(parameters.get(k)) for k in ("contribution_base_min", "contribution_base_max"))
    if low is not None and high is not None and low > high:
        found.append(
            ProfileError(
                "/parameters/contribution_base_min",
                "contribution_base_min",
                "缴费基数下限高于上限",
                "The contribution base floor is above the cap",
                "C9",
            )
        )
    return found
