"""Policy profiles: PUT replaces the whole document and requires it; PATCH is a JSON Merge Patch (RFC 7396)
checked by the same rules (C2 multiplier, C5/C9 complete maps, a source for every parameter)."""

from __future__ import annotations

from typing import Any

from services.compensation.tests.conftest import Compensation

URL = "/v1/policy-profiles/330302/2026"
PATCH = {"Content-Type": "application/merge-patch+json"}
COEFFICIENTS = {"excellent": "1.2", "competent": "1.0", "basically_competent": "0.8", "incompetent": "0"}


async def patch(compensation: Compensation, document: dict[str, Any], **headers: str) -> Any:
    return await compensation.client.patch(URL, headers=compensation.county | PATCH | headers, json=document)


async def put_two_overrides(compensation: Compensation) -> None:
    response = await compensation.client.put(
        URL,
        headers=compensation.county,
        json={
            "preset": None,
            "parameters": {"multiplier": "1.5", "bonus_coefficients": COEFFICIENTS},
            "sources": {"multiplier": "鹿城区薪酬办法 第3条", "bonus_coefficients": "鹿城区绩效奖金分配办法"},
        },
    )
    assert response.status_code == 200, response.text


async def test_put_requires_the_whole_document_instead_of_wiping_the_other_overrides(
    compensation: Compensation,
) -> None:
    await put_two_overrides(compensation)
    partial = await compensation.client.put(
        URL, headers=compensation.county, json={"sources": {"multiplier": "鹿城区薪酬办法"}}
    )
    assert partial.status_code == 422
    assert [e["pointer"] for e in partial.json()["errors"]] == ["/body/parameters"]
    kept = (await compensation.client.get(URL, headers=compensation.county)).json()
    assert (kept["multiplier"], kept["bonus_coefficients"]["excellent"]) == ("1.5", "1.2")


async def test_patch_changes_one_override_and_keeps_the_others(compensation: Compensation) -> None:
    await put_two_overrides(compensation)
    changed = await patch(compensation, {"parameters": {"multiplier": "1.6"}, "sources": {"multiplier": "2026 修订"}})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["multiplier"], changed.json()["bonus_coefficients"]["competent"]) == ("1.6", "1.0")
    one_grade = await patch(compensation, {"parameters": {"bonus_coefficients": {"excellent": "1.3"}}})
    assert one_grade.json()["bonus_coefficients"] == {  # maps merge key by key (RFC 7396)
        "excellent": "1.3",
        "competent": "1.0",
        "basically_competent": "0.8",
        "incompetent": "0",
    }


async def test_patch_null_removes_an_override(compensation: Compensation) -> None:
    await put_two_overrides(compensation)
    removed = await patch(compensation, {"parameters": {"multiplier": None}, "sources": {"multiplier": None}})
    assert removed.status_code == 200
    assert removed.json()["multiplier"] == "1.2"  # the Wenzhou preset again (C2)
    assert removed.json()["bonus_coefficients"]["excellent"] == "1.2"


async def test_patch_is_checked_by_the_rules_of_put(compensation: Compensation) -> None:
    await put_two_overrides(compensation)
    too_high = await patch(compensation, {"parameters": {"multiplier": "1.9"}}, **{"Accept-Language": "en"})
    assert too_high.status_code == 422
    assert too_high.headers["content-type"] == "application/problem+json"
    assert too_high.json()["rule"] == "C2"
    assert [(e["pointer"], e["rule"]) for e in too_high.json()["errors"]] == [("/body/parameters/multiplier", "C2")]
    assert "1.2–1.8" in too_high.json()["errors"][0]["detail"]
    unsourced = await patch(compensation, {"parameters": {"base_share": "0.8"}})
    assert [e["pointer"] for e in unsourced.json()["errors"]] == ["/body/sources/base_share"]
    half_rates = await patch(
        compensation,
        {"parameters": {"employer_rates": {"pension": "0.16"}}, "sources": {"employer_rates": "x"}},
    )
    assert (half_rates.status_code, half_rates.json()["rule"]) == (422, "C9")  # the housing fund would go unpaid
    same_for_put = await compensation.client.put(
        URL,
        headers=compensation.county,
        json={"parameters": {"employer_rates": {"pension": "0.16"}}, "sources": {"employer_rates": "x"}},
    )
    assert (same_for_put.status_code, same_for_put.json()["rule"]) == (422, "C9")
    assert (await compensation.client.get(URL, headers=compensation.county)).json()["multiplier"] == "1.5"


async def test_patch_needs_the_merge_patch_media_type_and_an_existing_profile(compensation: Compensation) -> None:
    missing = await patch(compensation, {"parameters": {"multiplier": "1.3"}, "sources": {"multiplier": "x"}})
    assert missing.status_code == 404
    await put_two_overrides(compensation)
    plain = await compensation.client.patch(URL, headers=compensation.county, json={"parameters": {}})
    assert plain.status_code == 415
    assert plain.headers["accept-patch"] == "application/merge-patch+json"
    assert plain.headers["content-type"] == "application/problem+json"
