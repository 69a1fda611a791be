"""A region's pay-policy profile (C1–C11): its overrides, each with its source, replaced whole (PUT) or merged
(JSON Merge Patch, RFC 7396), checked by the same rules either way; and who may read a policy."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.compensation.domain.profiles import merge_patch, profile_errors
from services.compensation.models import PolicyProfile, events
from services.compensation.policies import policy_for
from services.compensation.schemas import PayPolicyOut, ProfileIn, ProfilePatch
from shared.auth import Principal
from shared.events import record_event
from shared.i18n import Message
from shared.problems import LocalizedFieldError, NotFound, UnprocessableContent
from shared.regions import contains
from shared.scoping import NO_SUCH_REGION, sees_region
from shared.writes import upsert


def require_policy_reader(principal: Principal, region: str) -> None:
    """A policy is read in the caller's region, in its county, and up its ancestors (whose policy it inherits).

    Not across: a county does not read a sibling county's scale or targets (AC1, ``docs/security.md``).
    """
    if not sees_region(principal, region) and not any(
        region.startswith(r[:6]) or contains(region, r) for r in principal.regions()
    ):
        raise NotFound(NO_SUCH_REGION, code=region)


def check_profile(body: ProfileIn) -> None:
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


async def policy_in_force(session: AsyncSession, region_code: str, year: int) -> PayPolicyOut:
    return PayPolicyOut(**(await policy_for(session, region_code, year)).as_dict())


async def replace_profile(session: AsyncSession, region_code: str, year: int, body: ProfileIn) -> PayPolicyOut:
    """Store the whole profile (publishing ``policy_profile.set``) and answer the policy now in force."""
    check_profile(body)
    profile = {
        "region_code": region_code,
        "year": year,
        "preset": body.preset.value if body.preset else None,
        "parameters": body.parameters,
        "sources": body.sources,
    }
    await upsert(session, PolicyProfile, profile, ["region_code", "year"])
    await record_event(
        session, events, "policy_profile.set", f"policy/{region_code}/{year}", body.model_dump(mode="json")
    )
    return await policy_in_force(session, region_code, year)


async def patch_profile(session: AsyncSession, region_code: str, year: int, patch: ProfilePatch) -> PayPolicyOut:
    """Merge ``patch`` into the stored profile (404 when there is none yet) and store the result."""
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
    merged = merge_patch(stored, patch.model_dump(mode="json", exclude_unset=True))
    document = ProfileIn.model_validate(
        {
            "preset": merged.get("preset"),
            "parameters": merged.get("parameters", {}),
            "sources": merged.get("sources", {}),
        }
    )
    return await replace_profile(session, region_code, year, document)
